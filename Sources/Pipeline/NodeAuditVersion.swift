/// The version nodeaudit reports.
package enum NodeAuditVersion {
    package static let string = "0.1.0"
}
