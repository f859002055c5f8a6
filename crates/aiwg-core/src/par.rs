//! `par_map`: an order-keeping parallel map over a slice on the machine's cores, for the
//! system-call-bound and parse-bound steps of loading thousands of files.

/// `items.into_iter().map(f).collect()`, computed on one thread per core (at most 8) in
/// contiguous chunks when there are at least `min_items` items; the results keep the items'
/// order. A panic in `f` is passed on.
pub fn par_map<T: Send, R: Send>(
    mut items: Vec<T>,
    min_items: usize,
    f: impl Fn(T) -> R + Sync,
) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    if threads < 2 || items.len() < min_items.max(2) {
        return items.into_iter().map(f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    let mut chunks = Vec::with_capacity(threads);
    while items.len() > chunk {
        let rest = items.split_off(chunk);
        chunks.push(std::mem::replace(&mut items, rest));
    }
    chunks.push(items);
    let mut chunks = chunks.into_iter();
    let first = chunks.next().unwrap_or_default();
    let f = &f;
    std::thread::scope(|scope| {
        let handles: Vec<_> = chunks
            .map(|part| scope.spawn(move || part.into_iter().map(f).collect::<Vec<R>>()))
            .collect();
        // The calling thread takes the first chunk instead of waiting idle.
        let mut out: Vec<R> = first.into_iter().map(f).collect();
        for h in handles {
            match h.join() {
                Ok(part) => out.extend(part),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        out
    })
}

#[cfg(test)]
mod tests {
    use super::par_map;

    #[test]
    fn keeps_order_at_every_size() {
        for n in [0, 1, 2, 3, 7, 100, 1001] {
            let items: Vec<usize> = (0..n).collect();
            let want: Vec<usize> = items.iter().map(|i| i * 3).collect();
            assert_eq!(par_map(items.clone(), 2, |i| i * 3), want, "{n} items");
            assert_eq!(par_map(items, 10_000, |i| i * 3), want, "{n} items, serial");
        }
    }
}
