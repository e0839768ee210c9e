import Foundation

/// Minimal PNG encoder for 8-bit gray and RGB previews (`sono-inspect show`, `sono-report`):
/// stored (uncompressed) deflate blocks, so no zlib dependency; previews are small.
public enum PNGWriter {
    public static func gray(width: Int, height: Int, pixels: [UInt8]) -> Data {
        encode(width: width, height: height, channels: 1, pixels: pixels)
    }

    /// `pixels`: r, g, b per pixel, row-major.
    public static func rgb(width: Int, height: Int, pixels: [UInt8]) -> Data {
        encode(width: width, height: height, channels: 3, pixels: pixels)
    }

    private static func encode(width: Int, height: Int, channels: Int, pixels: [UInt8]) -> Data {
        precondition(pixels.count == width * height * channels)
        let row = width * channels
        var raw = [UInt8]()
        raw.reserveCapacity((row + 1) * height)
        for y in 0..<height {
            raw.append(0)  // filter: none
            raw.append(contentsOf: pixels[(y * row)..<((y + 1) * row)])
        }
        var zlib: [UInt8] = [0x78, 0x01]
        var offset = 0
        repeat {
            let n = min(65535, raw.count - offset)
            let final: UInt8 = offset + n == raw.count ? 1 : 0
            zlib.append(final)
            zlib.append(contentsOf: [UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8((~n >> 8) & 0xFF)])
            zlib.append(contentsOf: raw[offset..<(offset + n)])
            offset += n
        } while offset < raw.count
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in raw { a = (a + UInt32(byte)) % 65521; b = (b + a) % 65521 }
        zlib.append(contentsOf: bigEndian((b << 16) | a))

        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        var header = bigEndian(UInt32(width)) + bigEndian(UInt32(height))
        header += [8, channels == 3 ? 2 : 0, 0, 0, 0]  // 8-bit, gray (0) or RGB (2), deflate, no filter method, no interlace
        png += chunk("IHDR", header) + chunk("IDAT", zlib) + chunk("IEND", [])
        return Data(png)
    }

    private static func bigEndian(_ v: UInt32) -> [UInt8] {
        [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]
    }

    private static let crcTable: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    private static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        var c: UInt32 = 0xFFFF_FFFF
        for byte in body { c = crcTable[Int((c ^ UInt32(byte)) & 0xFF)] ^ (c >> 8) }
        return bigEndian(UInt32(data.count)) + body + bigEndian(c ^ 0xFFFF_FFFF)
    }
}
