/// Changes the array at `field` of `root` without copying it.
///
/// swift-protobuf's accessors of large messages (spans, log records, …) have only get and set, so
/// a change through `&span.attributes` copies the array first: the message keeps its own
/// reference until the setter runs. Taken out of the message while it changes, the array is
/// uniquely held and changes in place.
@inlinable
public func editInPlace<Root, Element, E: Error>(_ root: inout Root, _ field: WritableKeyPath<Root, [Element]>,
                                                 _ body: (inout [Element]) throws(E) -> Void) throws(E) {
    var array = root[keyPath: field]
    root[keyPath: field] = []
    defer { root[keyPath: field] = array }
    try body(&array)
}
