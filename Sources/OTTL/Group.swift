/// Statements (and their gating conditions) or bare conditions for one context, with how
/// evaluation errors are handled.
public struct OTTLGroup<C: OTTLContext>: Sendable {
    public let program: OTTLProgram<C>
    public let errorMode: OTTLErrorMode

    public init(_ program: OTTLProgram<C>, errorMode: OTTLErrorMode) {
        self.program = program
        self.errorMode = errorMode
    }

    /// The group for another context of the same name and paths (`OTTLProgram(_:)`).
    public init<Other: OTTLContext>(_ other: OTTLGroup<Other>) {
        self.init(OTTLProgram(other.program), errorMode: other.errorMode)
    }

    /// Whether any condition holds. A condition that fails to evaluate counts as false unless
    /// the mode is `propagate`; `report` hears about it unless the mode is `silent`.
    /// Inlinable, so that it is specialized for the caller's context: unspecialized, walking the
    /// compiled conditions looked up their type's metadata on every item.
    @inlinable
    public func anyCondition(_ context: inout C, report: (OTTLRuntimeError) -> Void) throws(OTTLRuntimeError) -> Bool {
        for index in program.conditions.indices {
            do {
                if let compiled = program.compiled[index] {
                    if try compiled.test(&context) { return true }
                } else if try OTTLEvaluator.test(program.conditions[index], &context) {
                    return true
                }
            } catch {
                try errorMode.handle(error, report)
            }
        }
        return false
    }

    /// Runs the statements in order when there are no conditions or one holds.
    @inlinable
    public func execute(_ context: inout C, report: (OTTLRuntimeError) -> Void) throws(OTTLRuntimeError) {
        if !program.conditions.isEmpty, !(try anyCondition(&context, report: report)) { return }
        for index in program.statements.indices {
            do {
                if let compiled = program.compiledStatements[index] {
                    try compiled.run(&context)
                } else {
                    try OTTLEvaluator.run(program.statements[index], &context)
                }
            } catch {
                try errorMode.handle(OTTLRuntimeError("\(program.statements[index].text): \(error.message)"), report)
            }
        }
    }
}
