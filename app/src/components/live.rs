//! The browser end of live updates: one EventSource per signed-in page, and
//! counters that resources read so they refetch when something they show changes.

use leptos::prelude::*;

/// What the server announced last, with a running count of announcements.
#[derive(Clone, Copy)]
pub struct Live {
    /// Bumped on every change (or when a reconnect may have missed some).
    pub version: RwSignal<u64>,
    /// The incident the last change was about; `None` after a reconnect,
    /// when anything may have changed.
    pub last_incident: RwSignal<Option<i64>>,
    /// Bumped when the alert inbox changes (and after reconnects); `version`
    /// does not move for the inbox, so war rooms do not refetch for it.
    pub alerts: RwSignal<u64>,
}

impl Live {
    fn still() -> Self {
        Live {
            version: RwSignal::new(0),
            last_incident: RwSignal::new(None),
            alerts: RwSignal::new(0),
        }
    }

    /// A counter that moves only for changes to incident `number` (and after reconnects),
    /// so a war room does not refetch when another incident changes.
    pub fn for_incident(self, number: impl Fn() -> i64 + Send + Sync + 'static) -> Memo<u64> {
        Memo::new(move |previous: Option<&u64>| {
            let version = self.version.get();
            match (self.last_incident.get_untracked(), previous) {
                (Some(changed), Some(previous)) if changed != number() => *previous,
                _ => version,
            }
        })
    }
}

/// Opens the event stream (in the browser only) and provides [`Live`] to children.
pub fn provide_live() -> Live {
    let live = Live::still();
    provide_context(live);
    #[cfg(feature = "hydrate")]
    connect(live);
    live
}

/// The live counters, or still ones outside a signed-in page.
pub fn use_live() -> Live {
    use_context::<Live>().unwrap_or_else(Live::still)
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
        let on_change = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(
            move |event: web_sys::MessageEvent| {
                let data = event.data().as_string();
                if data.as_deref() == Some("alerts") {
                    live.alerts.update(|v| *v += 1);
                    return;
                }
                let number = data
                    .as_deref()
                    .and_then(|d| d.strip_prefix("incident:").and_then(|n| n.parse().ok()));
                live.last_incident.set(number);
                live.version.update(|v| *v += 1);
            },
        );
        // The first resync arrives with the connection itself; later ones follow
        // a reconnect, when changes may have been missed.
        let mut connected_before = false;
        let on_resync = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |_| {
            if connected_before {
                live.last_incident.set(None);
                live.version.update(|v| *v += 1);
                live.alerts.update(|v| *v += 1);
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
