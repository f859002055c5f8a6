//! `par_map`: an order-keeping parallel map over a slice on the machine's cores, for the
//! system-call-bound and parse-bound steps of loading thousands of files; `par_first`: the
//! first of many jobs of unequal size that finds something, on every core; `parts`: a job
//! cut into equal parts, one per thread, the caller taking one.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

/// The cores this process may use (`available_parallelism`, at least 1), asked once: the
/// standard library reads `/proc/self/cgroup` and the cgroup's quota files on every call
/// (seven system calls), and one apply asks a handful of times.
pub fn cores() -> usize {
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// `items.into_iter().map(f).collect()`, computed on one thread per core (at most 8) when
/// there are at least `min_items` items; the results keep the items' order. The items are cut
/// into `BLOCKS_PER_THREAD` blocks per thread, each thread taking the next block as it
/// finishes one, so items of unequal cost (files of one kind parse slower than another's) or
/// a core the machine gives less time still spread evenly. A panic in `f` is passed on.
pub fn par_map<T: Send, R: Send>(
    mut items: Vec<T>,
    min_items: usize,
    f: impl Fn(T) -> R + Sync,
) -> Vec<R> {
    let threads = cores().min(8);
    if threads < 2 || items.len() < min_items.max(2) {
        return items.into_iter().map(f).collect();
    }
    let size = items.len().div_ceil(threads * BLOCKS_PER_THREAD);
    let mut blocks = Vec::with_capacity(threads * BLOCKS_PER_THREAD);
    while items.len() > size {
        let rest = items.split_off(size);
        blocks.push(Mutex::new(Some(std::mem::replace(&mut items, rest))));
    }
    blocks.push(Mutex::new(Some(items)));
    let next = AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        loop {
            let b = next.fetch_add(1, Ordering::Relaxed);
            let Some(block) = blocks.get(b) else {
                return done;
            };
            let part = (block.lock().unwrap_or_else(|e| e.into_inner()).take()).unwrap_or_default();
            done.push((b, part.into_iter().map(&f).collect::<Vec<R>>()));
        }
    };
    let work = &work;
    let mut done = std::thread::scope(|scope| {
        let handles: Vec<_> = (1..threads).filter_map(|_| spawn(scope, work)).collect();
        // The calling thread takes blocks too instead of waiting idle.
        let mut done = work();
        for h in handles {
            match h.join() {
                Ok(part) => done.extend(part),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        done
    });
    done.sort_unstable_by_key(|(b, _)| *b);
    done.into_iter().flat_map(|(_, part)| part).collect()
}

/// Blocks per thread in [`par_map`]: enough that the last ones even out the threads, few
/// enough that taking one costs nothing next to its items.
const BLOCKS_PER_THREAD: usize = 8;

/// The lowest index `i` in `0..n` for which `f(i)` is `Some`, with its value: the same answer
/// as `(0..n).find_map(f)`, computed on one thread per core (at most 8) when `n` is at least
/// `min_items`. Each thread takes the next index as it finishes one, so jobs of unequal cost
/// (or a core the machine gives less time) still spread evenly; once an index has found
/// something, indices above it are not started. A panic in `f` is passed on.
pub fn par_first<R: Send>(
    n: usize,
    min_items: usize,
    f: impl Fn(usize) -> Option<R> + Sync,
) -> Option<(usize, R)> {
    let threads = cores().min(8);
    if threads < 2 || n < min_items.max(2) {
        return (0..n).find_map(|i| f(i).map(|r| (i, r)));
    }
    let next = AtomicUsize::new(0);
    // The lowest index found so far (`usize::MAX`: none).
    let found = AtomicUsize::new(usize::MAX);
    let work = || {
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            if i >= n || i > found.load(Ordering::Relaxed) {
                return None;
            }
            if let Some(r) = f(i) {
                found.fetch_min(i, Ordering::Relaxed);
                // Indices only grow within a thread: its first find is its lowest.
                return Some((i, r));
            }
        }
    };
    let work = &work;
    std::thread::scope(|scope| {
        let handles: Vec<_> = (1..threads).filter_map(|_| spawn(scope, work)).collect();
        let mut best = work();
        for h in handles {
            match h.join() {
                Ok(Some(hit)) if best.as_ref().is_none_or(|b| hit.0 < b.0) => best = Some(hit),
                Ok(_) => {}
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        best
    })
}

/// `work(k, n)` for each part `k` of `n`, the results in part order: parts `1..n` on threads
/// of their own, part 0 on the calling thread (which so never waits idle), and a part whose
/// thread is refused ([`spawn`]) on the calling thread after its own. A panic is passed on:
/// dropping its part would shift every later result. With [`share`], `work` takes part `k`
/// of a slice.
pub fn parts<R: Send>(n: usize, work: impl Fn(usize, usize) -> R + Sync) -> Vec<R> {
    let n = n.max(1);
    let work = &work;
    std::thread::scope(|scope| {
        let started: Vec<_> = (1..n)
            .map(|k| spawn(scope, move || work(k, n)).ok_or(k))
            .collect();
        let mut out = Vec::with_capacity(n);
        out.push(work(0, n));
        for h in started {
            out.push(match h {
                Ok(h) => h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)),
                Err(k) => work(k, n),
            });
        }
        out
    })
}

/// Part `k` of `n` nearly equal parts of `items`, in order (the parts of `k` in `0..n` put
/// together are `items`).
pub fn share<T>(items: &[T], k: usize, n: usize) -> &[T] {
    let at = |k: usize| items.len() * k / n;
    &items[at(k)..at(k + 1)]
}

/// Starts `f` on a scoped thread; `None` when the system refuses a thread (a pids limit, `ulimit
/// -u`): the caller then does the work itself, never panics as `Scope::spawn` would.
pub fn spawn<'scope, 'env, T: Send + 'scope>(
    scope: &'scope std::thread::Scope<'scope, 'env>,
    f: impl FnOnce() -> T + Send + 'scope,
) -> Option<std::thread::ScopedJoinHandle<'scope, T>> {
    if REFUSE_THREADS.load(Ordering::Relaxed) {
        return None;
    }
    std::thread::Builder::new().spawn_scoped(scope, f).ok()
}

/// Makes [`spawn`] refuse every thread, as a pids limit would: for tests (of this crate and
/// others). Work is only ever shared out, so other tests running meanwhile get the same
/// results, on one thread.
#[doc(hidden)]
pub static REFUSE_THREADS: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

#[cfg(test)]
mod tests {
    use super::{par_first, par_map, REFUSE_THREADS};

    #[test]
    fn par_first_finds_the_lowest_index_as_a_serial_search_would() {
        for n in [0usize, 1, 2, 3, 100, 1001] {
            for hits in [
                vec![],
                vec![0],
                vec![n / 2],
                vec![n / 3, n / 2, n.saturating_sub(1)],
            ] {
                let hits: Vec<usize> = hits.into_iter().filter(|&h| h < n).collect();
                let f = |i: usize| hits.contains(&i).then_some(i * 7);
                let want = (0..n).find_map(|i| f(i).map(|r| (i, r)));
                assert_eq!(par_first(n, 2, f), want, "{n} jobs, hits {hits:?}");
                assert_eq!(par_first(n, 10_000, f), want, "{n} jobs, serial");
            }
        }
    }

    #[test]
    fn a_refused_thread_leaves_the_work_to_the_caller() {
        REFUSE_THREADS.store(true, std::sync::atomic::Ordering::Relaxed);
        let items: Vec<usize> = (0..1000).collect();
        let mapped = par_map(items, 2, |i| i * 3);
        let first = par_first(1000, 2, |i| (i == 700).then_some(i));
        REFUSE_THREADS.store(false, std::sync::atomic::Ordering::Relaxed);
        assert_eq!(mapped, (0..1000).map(|i| i * 3).collect::<Vec<_>>());
        assert_eq!(first, Some((700, 700)));
    }

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
