//! The built site (browser bundle, styles, icons), read once at start and
//! served from memory.
//!
//! Every file under `pkg/` is also served in a folder named after a hash of
//! the whole bundle (`/pkg/calmroom.wasm` ->
//! `/pkg/3f2a9c0d41b7e655/calmroom.wasm`). Pages link those names
//! ([`app::AssetUrls`]), so browsers keep them for a year without asking
//! again, and a new release is fetched because its names are new. One folder
//! per build, not a hash per file: the bundle's files load each other by
//! relative names (the JS glue and the loader of the split-out screens
//! import each other, and the loader fetches `./<chunk>.wasm`), and those
//! names must resolve to the same build. The plain names still answer, with
//! `no-cache`.
//!
//! The brotli copy comes from the build (`--precompress`, checked to unpack
//! to the file) or is made here; the gzip copy is made here. Either is made
//! once per file, on a blocking thread ([`Assets::pack_all`] at start, or on
//! a file's first request). Until a
//! file's copies are ready it is sent as is and the router's compression
//! layer squeezes it at its quick level: nobody waits for packing.
//!
//! A big file with a brotli copy gets its gzip copy only when a client first
//! takes gzip and not brotli. Browsers offer brotli over HTTPS only, so an
//! instance behind TLS never spends the memory on it (1.1 MB for the
//! bundle), and one on plain HTTP makes it on its first visit.

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

/// Files smaller than this are sent as they are: compressing them saves less
/// than a packet.
const PACK_FROM_BYTES: usize = 1024;

/// The site is ours and small; a folder tree deeper than this is not.
const MAX_DEPTH: usize = 6;

/// Long-lived browser caching for names that change with their content.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// Files at least this big keep only their compressed copies once those
/// are made: every browser takes gzip or brotli, and the rare client that
/// takes neither gets the file unpacked for it ([`Asset::unpacked`]). The
/// bundle's raw copies were 3 MB of the server's memory.
const DROP_RAW_FROM_BYTES: usize = 16 * 1024;

/// At most this many files are unpacked at once for clients that take no
/// compression; more wait their turn.
const UNPACKING_AT_ONCE: usize = 2;

/// One file of the site.
#[derive(Debug)]
struct Asset {
    /// The file as built; big files give it up once packed (`packed` then
    /// holds no raw copy).
    raw: std::sync::Mutex<Option<Bytes>>,
    content_type: &'static str,
    /// The brotli copy the release build left beside the file, checked.
    built_br: Option<Bytes>,
    /// The first 16 hex digits of the SHA-256 of `raw`.
    hash: String,
    packed: OnceLock<Encoded>,
    packing: AtomicBool,
    /// The gzip copy of a file packed without one ([`Asset::gzip_later`]).
    late_gzip: OnceLock<Bytes>,
    gzipping: AtomicBool,
}

/// A path the site answers, and whether its name carries the content hash.
#[derive(Clone, Debug)]
struct Route {
    asset: Arc<Asset>,
    immutable: bool,
}

/// The files of the built site, by the paths they answer.
#[derive(Clone, Debug, Default)]
pub struct Assets {
    routes: Arc<HashMap<String, Route>>,
    urls: app::AssetUrls,
    unpacking: Arc<Unpacking>,
}

/// Bounds the CPU spent unpacking files for clients that take no compression.
#[derive(Debug)]
struct Unpacking(tokio::sync::Semaphore);

impl Default for Unpacking {
    fn default() -> Self {
        Unpacking(tokio::sync::Semaphore::new(UNPACKING_AT_ONCE))
    }
}

impl Assets {
    /// Reads every file under `site_root`. A missing folder is an empty site
    /// (the pages still render; they are not hydrated). Compressed copies made
    /// at build time (`x.br` and `x.gz` beside `x`, from `cargo leptos build
    /// --release --precompress`) are used when both unpack to exactly `x`;
    /// otherwise the copies are made here.
    pub fn load(site_root: &Path) -> std::io::Result<Assets> {
        let mut files = Vec::new();
        if site_root.is_dir() {
            collect(site_root, site_root, 0, &mut files)?;
        }
        let assets: Vec<(String, Arc<Asset>)> = files
            .into_iter()
            .map(|(path, file, raw)| {
                let built_br = built_brotli(&file, &raw);
                let asset = Asset::new(raw, content_type(&path), built_br);
                (path, Arc::new(asset))
            })
            .collect();
        let build = build_tag(&assets);
        let mut routes = HashMap::new();
        let mut urls = HashMap::new();
        for (path, asset) in assets {
            if let Some(versioned) = versioned_name(&path, &build) {
                routes.insert(
                    versioned.clone(),
                    Route {
                        asset: asset.clone(),
                        immutable: true,
                    },
                );
                urls.insert(path.clone(), versioned);
            }
            routes.insert(
                path,
                Route {
                    asset,
                    immutable: false,
                },
            );
        }
        Ok(Assets {
            routes: Arc::new(routes),
            urls: app::AssetUrls(Arc::new(urls)),
            unpacking: Arc::default(),
        })
    }

    /// The versioned names pages link to.
    pub fn urls(&self) -> app::AssetUrls {
        self.urls.clone()
    }

    /// Makes every file's compressed copies now, one after another on one
    /// blocking thread (the server calls it at start; requests meanwhile are
    /// compressed on the fly).
    pub fn pack_all(&self) -> tokio::task::JoinHandle<()> {
        // Each file once, by its plain name (its versioned name shares the Asset).
        let assets: Vec<Arc<Asset>> = self
            .routes
            .values()
            .filter(|r| !r.immutable)
            .map(|r| r.asset.clone())
            .collect();
        tokio::task::spawn_blocking(move || {
            for asset in assets {
                asset.pack_now();
            }
            // The working memory of the compressors and checks, freed on a
            // thread that now waits, goes back to the system.
            crate::allocator::give_back_freed();
        })
    }

    /// The answer to a GET or HEAD of `path`, or `None` when the site has no
    /// such file (the caller renders its 404 page).
    pub async fn answer(
        &self,
        method: &Method,
        path: &str,
        headers: &HeaderMap,
    ) -> Option<Response> {
        if method != Method::GET && method != Method::HEAD {
            return None;
        }
        let route = self.routes.get(path)?;
        let asset = &route.asset;
        let cache = if route.immutable {
            IMMUTABLE
        } else {
            "no-cache"
        };
        let plain = |raw: Bytes| {
            Encoded::plain(raw, asset.hash.clone()).answer(
                method,
                headers,
                asset.content_type,
                cache,
            )
        };
        let response = match asset.packed.get() {
            Some(packed) if packed.serves(headers) => {
                packed.answer(method, headers, asset.content_type, cache)
            }
            // A client that takes neither copy of a file kept only packed.
            Some(packed) => self.unserved(asset, packed, method, headers, cache).await,
            None => {
                asset.pack_later();
                // Sent as is for now: the compression layer squeezes it on the fly.
                match asset.kept_raw() {
                    Some(raw) => plain(raw),
                    // Packed in the meantime.
                    None => match asset.packed.get() {
                        Some(packed) if packed.serves(headers) => {
                            packed.answer(method, headers, asset.content_type, cache)
                        }
                        Some(packed) => self.unserved(asset, packed, method, headers, cache).await,
                        None => StatusCode::SERVICE_UNAVAILABLE.into_response(),
                    },
                }
            }
        };
        Some(response)
    }

    /// The answer for a client that takes neither of the copies `packed`
    /// holds: the late gzip copy once made (its first request starts it), or
    /// the file unpacked, which the compression layer squeezes for a client
    /// that takes gzip.
    async fn unserved(
        &self,
        asset: &Arc<Asset>,
        packed: &Encoded,
        method: &Method,
        headers: &HeaderMap,
        cache: &'static str,
    ) -> Response {
        if Accepted::from(headers).gzip {
            if let Some(gzip) = asset.late_gzip.get() {
                return Encoded::gzip_only(gzip.clone(), asset.hash.clone()).answer(
                    method,
                    headers,
                    asset.content_type,
                    cache,
                );
            }
            asset.gzip_later(packed);
        }
        match self.unpack(packed).await {
            Some(raw) => Encoded::plain(raw, asset.hash.clone()).answer(
                method,
                headers,
                asset.content_type,
                cache,
            ),
            None => StatusCode::SERVICE_UNAVAILABLE.into_response(),
        }
    }

    /// The file `packed` holds, unpacked on a blocking thread (a few
    /// milliseconds for the bundle), a bounded number at a time.
    async fn unpack(&self, packed: &Encoded) -> Option<Bytes> {
        let _turn = self.unpacking.0.acquire().await.ok()?;
        let (br, gzip) = (packed.br.clone(), packed.gzip.clone());
        tokio::task::spawn_blocking(move || unpacked(br, gzip))
            .await
            .ok()
            .flatten()
    }
}

/// The body of a gzip or (failing that) brotli copy (CPU-heavy: call it on a
/// blocking thread).
fn unpacked(br: Option<Bytes>, gzip: Option<Bytes>) -> Option<Bytes> {
    use std::io::Read;
    let mut out = Vec::new();
    if let Some(gzip) = gzip {
        flate2::read::GzDecoder::new(gzip.as_ref())
            .read_to_end(&mut out)
            .ok()?;
    } else {
        brotli::Decompressor::new(br?.as_ref(), 64 * 1024)
            .read_to_end(&mut out)
            .ok()?;
    }
    Some(Bytes::from(out))
}

/// A body with its compressed copies (each kept only where smaller), made
/// once and sent to every reader as that reader accepts.
#[derive(Debug)]
pub struct Encoded {
    raw: Bytes,
    /// False when `raw` was given up (a big file of the site kept packed).
    raw_kept: bool,
    br: Option<Bytes>,
    gzip: Option<Bytes>,
    /// Names this version of the body in `ETag`s.
    hash: String,
}

/// How hard to squeeze: files of the bundle once per start (smallest), pages
/// rebuilt every few seconds (fast).
#[derive(Clone, Copy, Debug)]
pub enum Effort {
    Smallest,
    Quick,
}

impl Encoded {
    /// Compresses `raw` now (CPU-heavy: call it on a blocking thread).
    pub fn new(raw: Bytes, content_type: &str, effort: Effort) -> Encoded {
        let hash = hex16(&Sha256::digest(&raw));
        Encoded::with_brotli(raw, hash, content_type, effort, None, false)
    }

    /// Like [`Encoded::new`], for a body whose hash is known, with a brotli
    /// copy made already (checked by the caller to unpack to `raw`). With
    /// `gzip_later`, a big body that gets a brotli copy gets no gzip copy.
    fn with_brotli(
        raw: Bytes,
        hash: String,
        content_type: &str,
        effort: Effort,
        br: Option<Bytes>,
        gzip_later: bool,
    ) -> Encoded {
        let (br, gzip) = pack(&raw, content_type, effort, br, gzip_later);
        Encoded {
            raw,
            raw_kept: true,
            br,
            gzip,
            hash,
        }
    }

    fn plain(raw: Bytes, hash: String) -> Encoded {
        Encoded {
            raw,
            raw_kept: true,
            br: None,
            gzip: None,
            hash,
        }
    }

    /// A gzip copy alone (for a client that takes gzip).
    fn gzip_only(gzip: Bytes, hash: String) -> Encoded {
        Encoded {
            raw: Bytes::new(),
            raw_kept: false,
            br: None,
            gzip: Some(gzip),
            hash,
        }
    }

    /// Gives up the raw copy of a big body that has a compressed one.
    fn without_big_raw(mut self) -> Encoded {
        if self.raw.len() >= DROP_RAW_FROM_BYTES && (self.br.is_some() || self.gzip.is_some()) {
            self.raw = Bytes::new();
            self.raw_kept = false;
        }
        self
    }

    /// The body as it was given.
    pub fn raw(&self) -> &Bytes {
        &self.raw
    }

    /// Whether this copy can answer the client of `headers` (only a file kept
    /// packed without its raw copy cannot: for a client that takes neither
    /// of its encodings).
    fn serves(&self, headers: &HeaderMap) -> bool {
        if self.raw_kept {
            return true;
        }
        let accepts = Accepted::from(headers);
        (accepts.br && self.br.is_some()) || (accepts.gzip && self.gzip.is_some())
    }

    /// The answer to GET or HEAD: brotli, gzip or as is, whichever the client
    /// accepts first in that order, with an `ETag` per copy, `Vary`, and 304
    /// when `If-None-Match` names the copy it would get.
    pub fn answer(
        &self,
        method: &Method,
        headers: &HeaderMap,
        content_type: &'static str,
        cache_control: &'static str,
    ) -> Response {
        let accepts = Accepted::from(headers);
        let (body, encoding) = match (&self.br, &self.gzip) {
            (Some(br), _) if accepts.br => (br.clone(), Some("br")),
            (_, Some(gzip)) if accepts.gzip => (gzip.clone(), Some("gzip")),
            // `serves` kept clients that need a raw copy away when there is none.
            _ => (self.raw.clone(), None),
        };
        let etag = match encoding {
            Some(encoding) => format!("\"{}-{encoding}\"", self.hash),
            None => format!("\"{}\"", self.hash),
        };
        let mut response = if not_modified(headers, &etag) {
            StatusCode::NOT_MODIFIED.into_response()
        } else if method == Method::HEAD {
            let mut response = Response::new(Body::empty());
            response
                .headers_mut()
                .insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
            response
        } else {
            Response::new(Body::from(body))
        };
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        if let Some(encoding) = encoding {
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
        }
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        if let Ok(value) = HeaderValue::from_str(&etag) {
            headers.insert(header::ETAG, value);
        }
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static(cache_control),
        );
        response
    }
}

impl Asset {
    fn new(raw: Bytes, content_type: &'static str, built_br: Option<Bytes>) -> Asset {
        Asset {
            hash: hex16(&Sha256::digest(&raw)),
            raw: std::sync::Mutex::new(Some(raw)),
            content_type,
            built_br,
            packed: OnceLock::new(),
            packing: AtomicBool::new(false),
            late_gzip: OnceLock::new(),
            gzipping: AtomicBool::new(false),
        }
    }

    /// Starts making the gzip copy of a file `packed` without one, on a
    /// blocking thread, unless it has started already.
    fn gzip_later(self: &Arc<Self>, packed: &Encoded) {
        if packed.gzip.is_some() || self.gzipping.swap(true, Ordering::AcqRel) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let (asset, br) = (self.clone(), packed.br.clone());
        runtime.spawn_blocking(move || {
            let gzip = unpacked(br, None).and_then(|raw| gzipped(&raw, PACK_EFFORT));
            if let Some(gzip) = gzip {
                let _ = asset.late_gzip.set(gzip);
            }
            crate::allocator::give_back_freed();
        });
    }

    /// Starts packing on a blocking thread unless it has started already.
    fn pack_later(self: &Arc<Self>) {
        if self.packing.swap(true, Ordering::AcqRel) {
            return;
        }
        let asset = self.clone();
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn_blocking(move || asset.pack_now());
        }
    }

    /// The raw copy while it is kept.
    fn kept_raw(&self) -> Option<Bytes> {
        self.raw.lock().ok().and_then(|raw| raw.clone())
    }

    fn pack_now(&self) {
        self.packing.store(true, Ordering::Release);
        let Some(raw) = self.kept_raw() else { return };
        self.packed.get_or_init(|| {
            Encoded::with_brotli(
                raw,
                self.hash.clone(),
                self.content_type,
                PACK_EFFORT,
                self.built_br.clone(),
                true,
            )
            .without_big_raw()
        });
        if let (Some(packed), Ok(mut raw)) = (self.packed.get(), self.raw.lock()) {
            if !packed.raw_kept {
                *raw = None;
            }
        }
    }
}

/// How hard the site's files are compressed at start. A debug build's bundle
/// is tens of MB with no brotli copy from the build: at quality 11 each
/// server spent minutes of a core on it, and the browser journeys (three
/// servers on two cores) timed out waiting. Release bundles come with their
/// brotli copies (`--precompress`) and are packed at the smallest.
const PACK_EFFORT: Effort = if cfg!(debug_assertions) {
    Effort::Quick
} else {
    Effort::Smallest
};

/// The brotli and gzip copies of `raw`, each kept only if smaller; none for
/// small bodies and for types that are compressed already. With
/// `gzip_later`, no gzip copy of a big body that has a brotli copy.
fn pack(
    raw: &[u8],
    content_type: &str,
    effort: Effort,
    built_br: Option<Bytes>,
    gzip_later: bool,
) -> (Option<Bytes>, Option<Bytes>) {
    let compressible = content_type.starts_with("text/")
        || content_type.starts_with("application/")
        || content_type == "image/svg+xml";
    if raw.len() < PACK_FROM_BYTES || !compressible {
        return (None, None);
    }
    // Quality 11 with a 1 MiB window: a 3.5 MB wasm becomes 888 KB (the
    // default 4 MiB window: 875 KB) for 46 MB of working memory instead of
    // 72 MB, for 7 s of one core. Quality 9: 1,011 KB in 0.7 s.
    let quality = match effort {
        Effort::Smallest => 11,
        Effort::Quick => 5,
    };
    let lgwin = 20;
    let br = if let Some(br) = built_br {
        // Shared with the asset's own handle, not copied.
        (br.len() < raw.len()).then_some(br)
    } else {
        let params = brotli::enc::BrotliEncoderParams {
            quality,
            lgwin,
            ..Default::default()
        };
        let mut out = Vec::with_capacity(raw.len() / 3);
        let mut input = raw;
        brotli::BrotliCompress(&mut input, &mut out, &params)
            .ok()
            .and_then(|_| smaller(raw, out))
    };
    let gzip = if gzip_later && br.is_some() && raw.len() >= DROP_RAW_FROM_BYTES {
        None
    } else {
        gzipped(raw, effort)
    };
    (br, gzip)
}

/// The gzip copy of `raw`, if smaller.
fn gzipped(raw: &[u8], effort: Effort) -> Option<Bytes> {
    let level = match effort {
        Effort::Smallest => 9,
        Effort::Quick => 6,
    };
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(raw.len() / 3),
        flate2::Compression::new(level),
    );
    encoder
        .write_all(raw)
        .and_then(|_| encoder.finish())
        .ok()
        .and_then(|packed| smaller(raw, packed))
}

/// `packed` if smaller than `raw`, with no spare capacity (copies are kept
/// for the server's life).
fn smaller(raw: &[u8], mut packed: Vec<u8>) -> Option<Bytes> {
    packed.shrink_to_fit();
    (packed.len() < raw.len()).then(|| Bytes::from(packed))
}

/// The brotli copy a release build (`--precompress`) left beside `file`, if
/// it unpacks to exactly `raw`: a copy left by another build must never go
/// out under this content's name. (Its gzip copy is not used: flate2 at level
/// 9 makes a 16 % smaller one in a fraction of a second.)
fn built_brotli(file: &Path, raw: &[u8]) -> Option<Bytes> {
    use std::io::Read;
    let mut name = file.as_os_str().to_owned();
    name.push(".br");
    let br = std::fs::read(std::path::PathBuf::from(name)).ok()?;
    let mut unpacked = Vec::with_capacity(raw.len());
    brotli::Decompressor::new(br.as_slice(), 64 * 1024)
        .read_to_end(&mut unpacked)
        .ok()?;
    (unpacked == raw).then(|| Bytes::from(br))
}

/// Which encodings the client takes (`q=0` refuses one).
struct Accepted {
    br: bool,
    gzip: bool,
}

impl From<&HeaderMap> for Accepted {
    fn from(headers: &HeaderMap) -> Self {
        let mut accepted = Accepted {
            br: false,
            gzip: false,
        };
        for value in headers.get_all(header::ACCEPT_ENCODING) {
            let Ok(value) = value.to_str() else { continue };
            for item in value.split(',') {
                let mut parts = item.split(';');
                let name = parts.next().unwrap_or("").trim().to_ascii_lowercase();
                let refused = parts.any(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .and_then(|q| q.trim().parse::<f32>().ok())
                        .is_some_and(|q| q <= 0.0)
                });
                match name.as_str() {
                    "br" => accepted.br = !refused,
                    "gzip" => accepted.gzip = !refused,
                    _ => {}
                }
            }
        }
        accepted
    }
}

/// Whether `If-None-Match` names this version (weak or strong, or `*`).
fn not_modified(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == etag || tag == "*")
}

/// The first 16 hex digits of a SHA-256 over the bundle folder's names and
/// contents: it changes whenever any file of the bundle does.
fn build_tag(assets: &[(String, Arc<Asset>)]) -> String {
    let mut bundle: Vec<(&str, &str)> = assets
        .iter()
        .filter(|(path, _)| path.starts_with("/pkg/"))
        .map(|(path, asset)| (path.as_str(), asset.hash.as_str()))
        .collect();
    bundle.sort_unstable();
    let mut digest = Sha256::new();
    for (path, hash) in bundle {
        digest.update(path.as_bytes());
        digest.update([0]);
        digest.update(hash.as_bytes());
        digest.update([0]);
    }
    hex16(&digest.finalize())
}

/// `/pkg/calmroom.wasm` -> `/pkg/<build>/calmroom.wasm`; only files of the
/// bundle folder move (icons keep the names other sites link to).
fn versioned_name(path: &str, build: &str) -> Option<String> {
    let rest = path.strip_prefix("/pkg/")?;
    Some(format!("/pkg/{build}/{rest}"))
}

fn collect(
    root: &Path,
    dir: &Path,
    depth: usize,
    out: &mut Vec<(String, std::path::PathBuf, Bytes)>,
) -> std::io::Result<()> {
    if depth > MAX_DEPTH {
        return Ok(());
    }
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(root, &path, depth + 1, out)?;
            continue;
        }
        let name = path.to_string_lossy();
        if name.ends_with(".br") || name.ends_with(".gz") {
            continue;
        }
        let Ok(relative) = path.strip_prefix(root) else {
            continue;
        };
        let url: Vec<String> = relative
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        let raw = read_site_file(&path)?;
        out.push((format!("/{}", url.join("/")), path, raw));
    }
    Ok(())
}

/// A file of the site. A big one, whose raw copy is given up once packed
/// (on another thread), is read into a mapping of its own, so its memory
/// goes back to the system the moment it is given up.
fn read_site_file(path: &Path) -> std::io::Result<Bytes> {
    let mut file = std::fs::File::open(path)?;
    let len = usize::try_from(file.metadata()?.len()).unwrap_or(usize::MAX);
    if len >= DROP_RAW_FROM_BYTES {
        if let Ok(mapping) = crate::allocator::OwnMapping::read(&mut file, len) {
            return Ok(Bytes::from_owner(mapping));
        }
        // The file changed under us or nothing could be mapped: read it as is.
        return std::fs::read(path).map(Bytes::from);
    }
    let mut raw = Vec::with_capacity(len);
    std::io::Read::read_to_end(&mut file, &mut raw)?;
    Ok(Bytes::from(raw))
}

fn content_type(path: &str) -> &'static str {
    let ext = path.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    match ext.to_ascii_lowercase().as_str() {
        "wasm" => "application/wasm",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "html" => "text/html; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "txt" => "text/plain; charset=utf-8",
        "woff2" => "font/woff2",
        _ => "application/octet-stream",
    }
}

fn hex16(digest: &[u8]) -> String {
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundle_files_move_into_their_builds_folder_and_icons_keep_their_names() {
        assert_eq!(
            versioned_name("/pkg/calmroom.wasm", "00aa").as_deref(),
            Some("/pkg/00aa/calmroom.wasm")
        );
        assert_eq!(versioned_name("/favicon.svg", "00aa"), None);
    }

    fn asset(raw: &'static [u8]) -> Arc<Asset> {
        Arc::new(Asset::new(
            Bytes::from_static(raw),
            "application/wasm",
            None,
        ))
    }

    #[test]
    fn the_build_folder_changes_with_any_bundle_file_and_not_with_an_icon() {
        let site = |chunk: &'static [u8], icon: &'static [u8]| {
            vec![
                ("/pkg/calmroom.wasm".to_owned(), asset(b"main")),
                ("/pkg/split_admin.wasm".to_owned(), asset(chunk)),
                ("/favicon.svg".to_owned(), asset(icon)),
            ]
        };
        let first = build_tag(&site(b"admin", b"icon"));
        assert_eq!(first, build_tag(&site(b"admin", b"other icon")));
        assert_ne!(first, build_tag(&site(b"admin v2", b"icon")));
    }

    #[test]
    fn a_big_file_with_a_brotli_copy_waits_for_its_gzip_copy_and_a_small_one_does_not() {
        let big: Vec<u8> = (0..40_000u32).map(|i| (i % 7 + i / 500) as u8).collect();
        let (br, gzip) = pack(&big, "application/wasm", Effort::Quick, None, true);
        assert!(br.is_some() && gzip.is_none());
        let (br, gzip) = pack(&big, "application/wasm", Effort::Quick, None, false);
        assert!(br.is_some() && gzip.is_some());
        let small = "body { color: black }\n".repeat(100);
        let (br, gzip) = pack(small.as_bytes(), "text/css", Effort::Quick, None, true);
        assert!(br.is_some() && gzip.is_some());
        // A copy made later unpacks to the file.
        let late = gzipped(&big, Effort::Quick).expect("smaller");
        let back = unpacked(None, Some(late)).expect("unpacks");
        assert_eq!(back.as_ref(), big.as_slice());
    }

    #[test]
    fn an_encoding_the_client_refuses_with_q_zero_is_not_sent() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("gzip, br;q=0"),
        );
        let accepted = Accepted::from(&headers);
        assert!(accepted.gzip && !accepted.br);
    }
}
