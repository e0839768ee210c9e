/// Reverse-mode differentiation over the tape.
extension Tensor {
    /// Computes ∂self/∂x for every tensor x on the tape that requires a gradient, adding into
    /// `x.grad`. `self` is usually a scalar loss (seed 1); otherwise pass the upstream gradient.
    /// The tape is released afterwards: a second backward needs a new forward pass.
    public func backward(_ seed: [Float]? = nil) {
        precondition(requiresGrad, "backward() on a tensor that does not require gradients")
        let initial = seed ?? [Float](repeating: 1, count: count)
        precondition(initial.count == count, "seed gradient size")
        // Topological order (inputs before outputs), iteratively to survive deep graphs.
        var order: [Tensor] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(Tensor, Bool)] = [(self, false)]
        while let (t, expanded) = stack.popLast() {
            if expanded { order.append(t); continue }
            guard visited.insert(ObjectIdentifier(t)).inserted else { continue }
            stack.append((t, true))
            for input in t.node?.inputs ?? [] where input.requiresGrad && !visited.contains(ObjectIdentifier(input)) {
                stack.append((input, false))
            }
        }
        accumulate(initial)
        // Popped, not iterated: once a tensor's gradient has been passed on, nothing here holds
        // it, so an activation no one else references is freed during backward, not after it.
        while let t = order.popLast() {
            guard let node = t.node, let g = t.grad else { continue }
            node.backward(g)
            // Release the tape and intermediate gradients as soon as they are used.
            t.node = nil
            if t !== self { t.grad = nil }
        }
    }
}
