import OTLP

/// The conditions of groups over encoded items, each compiled to a `WireCondition` that reads
/// the item, its scope and its resource where they lie, tested without making a context per
/// item or calling through a closure per condition. Taken when no part of any condition falls
/// back to the syntax tree; the groups' error modes apply as `OTTLGroup.anyCondition` applies them.
public struct WireItemConditions<Fields: WireItemFields>: Sendable {
    let conditions: WireConditionTape
    let errorModes: [OTTLErrorMode]

    /// nil when a condition does not compile whole.
    public init?(_ groups: [OTTLGroup<WireItemContext<Fields>>]) {
        var conditions: [WireCondition] = [], errorModes: [OTTLErrorMode] = []
        for group in groups {
            for condition in group.program.conditions {
                let compiled = WireItemContext<Fields>.wireCondition(condition)
                guard !compiled.mayEvaluateGeneral else { return nil }
                conditions.append(compiled)
                errorModes.append(group.errorMode)
            }
        }
        guard let tape = WireConditionTape(conditions) else { return nil }
        self.conditions = tape
        self.errorModes = errorModes
    }

    /// Whether any condition holds for the item. One that fails to evaluate counts as not
    /// holding, with the error reported or thrown as its group's error mode says.
    public func anyHolds(_ item: WireFields, scope: WireFields, resource: WireFields,
                         report: (OTTLRuntimeError) -> Void) throws(OTTLRuntimeError) -> Bool {
        for index in 0..<conditions.count {
            do {
                if try conditions.holds(index, item, scope, resource) { return true }
            } catch {
                try errorModes[index].handle(error, report)
            }
        }
        return false
    }
}
