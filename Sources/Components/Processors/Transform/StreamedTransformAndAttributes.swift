import OTLP
import OTTL

/// Transform statements that run in one walk over each item (`WireStreamedEdits`) and the keyed
/// actions of the attributes processor right behind them (`StreamedAttributeActions`), in the
/// same walk: each received entry goes through the statements and, if it is still there, through
/// the actions with the value the statements left; the entries the statements add go through the
/// actions next; the actions' own inserts go last. That is the order the two processors give
/// one after the other, each on an attribute list.
///
/// An entry the actions cannot change on their own (a hash of a value that is no string) sends
/// the item to the attribute list, where the statements and then the actions run as the list
/// path runs them.
struct StreamedTransformAndAttributes {
    let edits: WireStreamedEdits
    let actions: StreamedAttributeActions

    struct Scratch {
        var edits = WireStreamedEdits.Scratch()
        var value: [UInt8] = []
        /// The value the statements left, while the actions write theirs.
        var spare: [UInt8] = []
        var added = WireWriter()
    }

    /// The item with both applied, written into `bodies`; nil (nothing left in `bodies`) when it
    /// needs the attribute list.
    func apply(_ item: WireFields, scope: WireFields, resource: WireFields, into bodies: inout WireWriter,
               scratch: inout Scratch, report: (OTTLRuntimeError) -> Void) throws(OTTLRuntimeError) -> WireItemDecision? {
        let field = edits.field
        var state = try edits.begin(item, scope: scope, resource: resource, scratch: &scratch.edits, report: report)
        var met: UInt64 = 0
        var spare: [UInt8] = []
        swap(&spare, &scratch.spare)
        let walked = WireEntryWalk.copy(item.buffer, item.range, field: field, into: &bodies, value: &scratch.value) {
            key, value, newValue in
            switch edits.edit(key, value, &newValue, &state) {
            case .keep:
                return actions.decide(key, value, &newValue, &met)
            case .replace:
                // The actions read the statements' value and may write their own over it.
                swap(&newValue, &spare)
                let decision = spare.withUnsafeBytes { actions.decide(key, $0, &newValue, &met) }
                guard case .keep = decision else { return decision }
                swap(&newValue, &spare)
                return .replace
            case .drop:
                return .drop
            case .abandon:
                return .abandon
            }
        }
        edits.end(state, &scratch.edits)
        swap(&spare, &scratch.spare)
        guard let walked else { return nil }
        scratch.added.bytes.removeAll(keepingCapacity: true)
        guard actions.decide(added: edits.added(state, &scratch.edits), field: field, met: &met, into: &scratch.added,
                             value: &scratch.value) else {
            WireEntryWalk.discard(walked, from: &bodies)
            return nil
        }
        actions.add(met: met, field: field, into: &scratch.added)
        return WireEntryWalk.finish(walked, adding: scratch.added.bytes, into: &bodies)
    }
}
