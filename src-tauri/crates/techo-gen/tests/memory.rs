//! Generation streams: the peak heap while writing a large record stays small and does
//! not grow with the record's size. (Alone in its test binary: the allocator is global.)

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use techo_gen::{write, GenConfig, GenFormat};

struct Counting;
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(l) };
        if !p.is_null() {
            let now = LIVE.fetch_add(l.size(), Relaxed) + l.size();
            PEAK.fetch_max(now, Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) };
        LIVE.fetch_sub(l.size(), Relaxed);
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn peak_while_writing(resources: usize, format: GenFormat) -> (usize, u64) {
    let cfg = GenConfig { seed: 1, persons: 1, resources, facilities: 4 };
    let base = LIVE.load(Relaxed);
    PEAK.store(base, Relaxed);
    let n = write(&cfg, format, &mut std::io::sink()).unwrap();
    (PEAK.load(Relaxed) - base, n)
}

#[test]
fn peak_heap_is_constant_in_record_size() {
    let (small, n1) = peak_while_writing(5_000, GenFormat::Bundle);
    let (big, n2) = peak_while_writing(50_000, GenFormat::Bundle);
    let (nd, n3) = peak_while_writing(50_000, GenFormat::Ndjson);
    assert_eq!((n1, n2, n3), (5_000, 50_000, 50_000));
    println!("peak heap: 5k bundle {small} B, 50k bundle {big} B, 50k ndjson {nd} B");
    assert!(big < 4 << 20 && nd < 4 << 20, "peak heap {big} / {nd} bytes");
    assert!(big < small * 2 + (256 << 10), "peak heap grows with size: {small} -> {big}");
}
