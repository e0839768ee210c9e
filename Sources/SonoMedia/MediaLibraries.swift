import CFFmpeg

/// Versions of the linked FFmpeg libraries, for reports.
public enum MediaLibraries {
    public static var versions: [(String, String)] {
        func v(_ x: UInt32) -> String { "\(x >> 16).\((x >> 8) & 0xFF).\(x & 0xFF)" }
        return [("libavformat", v(avformat_version())), ("libavcodec", v(avcodec_version())),
                ("libavutil", v(avutil_version())), ("libswscale", v(swscale_version())),
                ("libswresample", v(swresample_version()))]
    }
}
