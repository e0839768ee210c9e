/// The toolkit's version, recorded with every run in the catalog.
public enum SonoDualVersion {
    public static let string = "0.1.0"
}
