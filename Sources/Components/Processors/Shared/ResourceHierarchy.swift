import OTLP
import OTTL
import Pipeline

extension Array where Element: ResourceEntry {
    /// Calls `body` with every item and its scope and resource, which it may change; a change of
    /// the scope or resource is seen by the items after it. An absent scope or resource that no
    /// item changed stays absent.
    mutating func editItems<E: Error>(_ body: (inout Element.Scope.Item, inout InstrumentationScope, inout Resource) throws(E) -> Void) throws(E) {
        for r in indices {
            for s in self[r].scopes.indices {
                var resource = self[r].resource
                var scope = self[r].scopes[s].scope
                for i in self[r].scopes[s].items.indices {
                    try body(&self[r].scopes[s].items[i], &scope, &resource)
                }
                if scope != self[r].scopes[s].scope { self[r].scopes[s].scope = scope }
                if resource != self[r].resource { self[r].resource = resource }
            }
        }
    }

    /// Calls `body` with every scope and its resource.
    mutating func editScopes<E: Error>(_ body: (inout InstrumentationScope, inout Resource) throws(E) -> Void) throws(E) {
        for r in indices {
            for s in self[r].scopes.indices {
                var resource = self[r].resource
                try body(&self[r].scopes[s].scope, &resource)
                self[r].resource = resource
            }
        }
    }

    /// Calls `body` with every resource; an absent resource it leaves unchanged stays absent.
    mutating func editResources<E: Error>(_ body: (inout Resource) throws(E) -> Void) throws(E) {
        for r in indices {
            var resource = self[r].resource
            try body(&resource)
            if resource != self[r].resource { self[r].resource = resource }
        }
    }

    /// Keeps the items `keep` says to (it may change them), then drops scopes and resources left empty.
    mutating func keepItems<E: Error>(_ keep: (inout Element.Scope.Item, InstrumentationScope, Resource) throws(E) -> Bool) throws(E) {
        for r in indices {
            let resource = self[r].resource
            for s in self[r].scopes.indices {
                let scope = self[r].scopes[s].scope
                var kept: [Element.Scope.Item] = []
                for var item in self[r].scopes[s].items {
                    if try keep(&item, scope, resource) { kept.append(item) }
                }
                self[r].scopes[s].items = kept
            }
            self[r].scopes.removeAll { $0.items.isEmpty }
        }
        removeAll { $0.scopes.isEmpty }
    }
}

extension Array where Element: ResourceEntry {
    /// Keeps the resources `keep` says to, and within them the scopes `keepScope` says to.
    mutating func keepResourcesAndScopes<E: Error>(_ keep: (Resource) throws(E) -> Bool,
                                                   _ keepScope: (InstrumentationScope, Resource) throws(E) -> Bool) throws(E) {
        var kept: [Element] = []
        for var entry in self where try keep(entry.resource) {
            var scopes: [Element.Scope] = []
            for scope in entry.scopes where try keepScope(scope.scope, entry.resource) { scopes.append(scope) }
            entry.scopes = scopes
            if !scopes.isEmpty { kept.append(entry) }
        }
        self = kept
    }
}

extension TelemetryBatch {
    /// The decoded request, for processors that change fields; undecodable data is permanent.
    mutating func requestForProcessing() throws(PipelineError) -> OTLPRequest {
        do { return try model() } catch { throw PipelineError.permanent("cannot decode the batch: \(error)") }
    }
}

/// Runs a processor's path over the encoded batch: false when the encoding has a shape only the
/// decoded path reads right (`WireIrregularMessage`); bytes that break the schema are permanent.
func runOnEncoding(_ body: () throws -> Void) throws -> Bool {
    do {
        try body()
    } catch is WireIrregularMessage {
        return false
    } catch let error as OTLPDecodingError {
        throw PipelineError.permanent("cannot decode the batch: \(error)")
    }
    return true
}
