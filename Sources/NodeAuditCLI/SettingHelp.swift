import ArgumentParser
import Configuration

extension ArgumentHelp {
    /// The help of a flag that sets `setting`: the setting's own meaning and default from
    /// the settings table, so that neither is written a second time here.
    static func setting(_ setting: Setting, discussion: String = "") -> ArgumentHelp {
        ArgumentHelp("\(setting.help) (\(setting.key); default: \(setting.defaultValue.shown))", discussion: discussion)
    }
}

extension Value {
    /// The value as a reader of `--help` wants it: unquoted, "none" for nothing.
    var shown: String {
        switch self {
        case .text(let text): text.isEmpty ? "none" : text
        case .texts(let texts): texts.isEmpty ? "none" : texts.joined(separator: ", ")
        default: description
        }
    }
}
