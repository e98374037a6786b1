import OTTL
import Pipeline

/// `error_mode` as processors spell it.
public enum ErrorModeOption: String, ConfigOption {
    case ignore, silent, propagate

    var mode: OTTLErrorMode { OTTLErrorMode(rawValue: rawValue) ?? .ignore }
}

extension OTTLProgram {
    /// Parses and checks statements and conditions from config lists, naming the list entry and
    /// the column on error.
    static func configured(statements: [String] = [], statementsPath: String = "",
                           conditions: [String] = [], conditionsPath: String = "") throws(ConfigError) -> OTTLProgram<C> {
        do {
            return try OTTLProgram(statements: statements, conditions: conditions)
        } catch {
            let path = statements.firstIndex(of: error.text).map { "\(statementsPath)[\($0)]" }
                ?? conditions.firstIndex(of: error.text).map { "\(conditionsPath)[\($0)]" }
                ?? (statements.isEmpty ? conditionsPath : statementsPath)
            throw ConfigError(path: path, message: "\(error.message) at column \(error.column) of \"\(error.text)\"")
        }
    }
}
