//! The server's memory allocator: mimalloc for everything, except blocks of
//! several megabytes, which are mapped from the system and unmapped when
//! freed.
//!
//! mimalloc renders pages fast (a fifth of a war-room render went to the
//! system allocator's malloc and free), but keeps what it frees for reuse,
//! and gives it back only once later allocations come by: the 19 MiB each
//! password hash works in stayed resident after the hashes were done (67 MB
//! at start, 75 MB idle after 100 sign-ins). Asking mimalloc to give back
//! everything at once cost a quarter of the war room's throughput. Blocks
//! this large are rare and each is used for milliseconds or more, so mapping
//! them directly costs nothing that shows, and their memory is back with the
//! system the moment they are freed.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout};

/// Blocks at least this large skip mimalloc.
const DIRECT_FROM: usize = 4 << 20;

/// Page size assumed for the alignment of mapped blocks (mappings are
/// page-aligned; anything asking for more goes through mimalloc).
const PAGE: usize = 4096;

/// mimalloc, with large blocks mapped directly (see the module).
pub struct Allocator;

fn direct(layout: &Layout) -> bool {
    cfg!(target_os = "linux") && layout.size() >= DIRECT_FROM && layout.align() <= PAGE
}

#[cfg(target_os = "linux")]
fn map(size: usize) -> *mut u8 {
    // SAFETY: an anonymous private mapping touches no existing memory.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            size,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        std::ptr::null_mut()
    } else {
        p.cast()
    }
}

#[cfg(target_os = "linux")]
fn unmap(p: *mut u8, size: usize) {
    // SAFETY: `p` and `size` are those of a mapping made by `map`, which the
    // caller gives up.
    unsafe {
        libc::munmap(p.cast(), size);
    }
}

/// Gives the memory this thread's work freed back to the system now.
/// mimalloc returns freed pages after a short delay, but only when the
/// thread that freed them allocates again: a thread that did a burst of work
/// and then waits (start-up packing of the bundle) would keep it all.
pub fn give_back_freed() {
    // SAFETY: `mi_collect` only reorganises mimalloc's own free lists and
    // returns unused pages to the system; it may be called from any thread.
    unsafe { libmimalloc_sys::mi_collect(true) }
    // C code (SQLite's connection threads) allocates with the C library's
    // malloc, whose per-thread arenas keep what was freed.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `malloc_trim` only returns free memory of glibc's arenas to
    // the system; it is thread-safe.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// A buffer mapped from the system on its own and unmapped when dropped, on
/// whichever thread drops it. Memory mimalloc hands out and another thread
/// frees stays with the thread that allocated it until that thread
/// allocates again, which a blocking thread gone idle never does: the site's
/// big files, read on one thread and given up on another once packed, kept
/// about 2 MB resident in some starts and not in others.
pub struct OwnMapping {
    ptr: std::ptr::NonNull<u8>,
    len: usize,
}

// SAFETY: the mapping is owned by this value alone, and only read through
// shared references once filled.
unsafe impl Send for OwnMapping {}
// SAFETY: as above; `&OwnMapping` only gives out `&[u8]`.
unsafe impl Sync for OwnMapping {}

impl OwnMapping {
    /// Reads exactly `len` bytes of `reader` into a new mapping (`len` > 0).
    pub fn read(reader: &mut impl std::io::Read, len: usize) -> std::io::Result<OwnMapping> {
        let ptr = if len == 0 {
            std::ptr::null_mut()
        } else {
            map(len)
        };
        let Some(ptr) = std::ptr::NonNull::new(ptr) else {
            return Err(std::io::Error::other("no memory could be mapped"));
        };
        // Owned from here on: an error below unmaps it.
        let mapping = OwnMapping { ptr, len };
        // SAFETY: the mapping is `len` writable bytes, zeroed by the system,
        // and nothing else refers to it yet.
        let bytes = unsafe { std::slice::from_raw_parts_mut(mapping.ptr.as_ptr(), len) };
        reader.read_exact(bytes)?;
        Ok(mapping)
    }
}

impl AsRef<[u8]> for OwnMapping {
    fn as_ref(&self) -> &[u8] {
        // SAFETY: `len` bytes mapped and filled by `read`, alive until drop.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

impl Drop for OwnMapping {
    fn drop(&mut self) {
        unmap(self.ptr.as_ptr(), self.len);
    }
}

/// Gives back what this thread freed, at most once a second: the server's
/// runtime calls it each time a worker thread runs out of work and parks.
/// mimalloc returns a thread's freed pages only when that thread allocates
/// again, so a worker that went quiet after start-up or after a burst kept
/// them (RSS right after start varied by 2 MB with which worker had done
/// what).
pub fn worker_idle() {
    use std::cell::Cell;
    use std::time::{Duration, Instant};
    thread_local! {
        static LAST: Cell<Option<Instant>> = const { Cell::new(None) };
    }
    let now = Instant::now();
    let due = LAST.with(|last| {
        let due = last
            .get()
            .is_none_or(|at| now.duration_since(at) >= Duration::from_secs(1));
        if due {
            last.set(Some(now));
        }
        due
    });
    if due {
        // SAFETY: as in `give_back_freed`.
        unsafe { libmimalloc_sys::mi_collect(true) }
    }
}

/// Makes the C library's malloc keep one arena for every thread. C code
/// (SQLite, on a thread per connection) is its only user here, and each
/// extra arena kept a few hundred KB resident for a handful of small blocks.
/// Call before any thread that runs C code starts.
pub fn one_c_arena() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `mallopt` only sets a tuning parameter of glibc's allocator.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}

#[cfg(not(target_os = "linux"))]
fn map(_size: usize) -> *mut u8 {
    std::ptr::null_mut()
}

#[cfg(not(target_os = "linux"))]
fn unmap(_p: *mut u8, _size: usize) {}

// SAFETY: every block is either mimalloc's (handed back to mimalloc) or a
// mapping of its own (unmapped), decided by its layout, which callers repeat
// exactly on dealloc and realloc as `GlobalAlloc` requires.
unsafe impl GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if direct(&layout) {
            map(layout.size())
        } else {
            // SAFETY: forwarded with the caller's guarantees.
            unsafe { mimalloc::MiMalloc.alloc(layout) }
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if direct(&layout) {
            // Fresh anonymous mappings are zeroed.
            map(layout.size())
        } else {
            // SAFETY: forwarded with the caller's guarantees.
            unsafe { mimalloc::MiMalloc.alloc_zeroed(layout) }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if direct(&layout) {
            unmap(ptr, layout.size());
        } else {
            // SAFETY: forwarded with the caller's guarantees.
            unsafe { mimalloc::MiMalloc.dealloc(ptr, layout) }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let Ok(new_layout) = Layout::from_size_align(new_size, layout.align()) else {
            return std::ptr::null_mut();
        };
        if !direct(&layout) && !direct(&new_layout) {
            // SAFETY: forwarded with the caller's guarantees.
            return unsafe { mimalloc::MiMalloc.realloc(ptr, layout, new_size) };
        }
        // SAFETY: a new block of the new layout, the kept bytes copied from
        // the old block (valid for `layout.size()`), then the old block freed
        // by the same rule that made it.
        unsafe {
            let moved = self.alloc(new_layout);
            if !moved.is_null() {
                std::ptr::copy_nonoverlapping(ptr, moved, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
            moved
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_read_into_its_own_mapping_reads_back_whole_and_a_short_one_is_an_error() {
        let data: Vec<u8> = (0..70_000u32).map(|i| (i % 251) as u8).collect();
        let mapping = OwnMapping::read(&mut data.as_slice(), data.len()).expect("mapped");
        assert_eq!(mapping.as_ref(), data.as_slice());
        assert!(OwnMapping::read(&mut &data[..10], 20).is_err());
        assert!(OwnMapping::read(&mut data.as_slice(), 0).is_err());
    }

    #[test]
    fn a_large_block_is_its_own_mapping_and_survives_growing_and_shrinking_across_the_limit() {
        let mut bytes: Vec<u8> = Vec::with_capacity(1024);
        bytes.extend((0..1024u32).map(|i| i as u8));
        // Grows from mimalloc's block into a mapping, then back.
        bytes.resize(DIRECT_FROM + 1, 7);
        assert_eq!(bytes[1000], (1000u32 % 256) as u8);
        assert_eq!(bytes[DIRECT_FROM], 7);
        bytes.truncate(2048);
        bytes.shrink_to_fit();
        assert_eq!(bytes[1023], 255);
        let zeroed = vec![0u64; DIRECT_FROM];
        assert!(zeroed.iter().all(|&x| x == 0));
    }
}
