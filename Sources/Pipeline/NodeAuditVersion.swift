/// The version nodeaudit reports.
public enum NodeAuditVersion {
    public static let string = "0.1.0"
}
