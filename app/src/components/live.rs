//! The browser end of live updates: one EventSource per signed-in page, and a
//! counter that resources read so they refetch when anything changes.

use leptos::prelude::*;

/// Bumped whenever the server announces a change (or a reconnect may have missed some).
#[derive(Clone, Copy)]
pub struct Live {
    pub version: RwSignal<u64>,
}

/// Opens the event stream (in the browser only) and provides [`Live`] to children.
pub fn provide_live() -> Live {
    let live = Live {
        version: RwSignal::new(0),
    };
    provide_context(live);
    #[cfg(feature = "hydrate")]
    connect(live);
    live
}

/// The live counter, or a still one outside a signed-in page.
pub fn use_live() -> Live {
    use_context::<Live>().unwrap_or(Live {
        version: RwSignal::new(0),
    })
}

#[cfg(feature = "hydrate")]
fn connect(live: Live) {
    use send_wrapper::SendWrapper;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;

    Effect::new(move |_| {
        let Ok(source) = web_sys::EventSource::new("/events") else {
            return;
        };
        let on_change = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |_| {
            live.version.update(|v| *v += 1);
        });
        // The first resync arrives with the connection itself; later ones follow
        // a reconnect, when changes may have been missed.
        let mut connected_before = false;
        let on_resync = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |_| {
            if connected_before {
                live.version.update(|v| *v += 1);
            }
            connected_before = true;
        });
        let _ =
            source.add_event_listener_with_callback("change", on_change.as_ref().unchecked_ref());
        let _ =
            source.add_event_listener_with_callback("resync", on_resync.as_ref().unchecked_ref());
        let handlers = SendWrapper::new((source, on_change, on_resync));
        on_cleanup(move || {
            let (source, _on_change, _on_resync) = handlers.take();
            source.close();
        });
    });
}
