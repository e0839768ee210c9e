/// How a dataset version is named on disk: its shards' folder is `<name>-v<version>`.
public enum DatasetNaming {
    public static func folder(name: String, version: Int) -> String { "\(name)-v\(version)" }
}
