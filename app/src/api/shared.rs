//! A value many readers get at once: cloned by reference, and on the server
//! turned into JSON once however many responses carry it.
//!
//! A war room watched by a thousand people is built once per change
//! (`api::rooms`); each watcher's answer then carries the same [`Shared`]
//! room beside its own permission flags, so answering costs neither a deep
//! copy nor a fresh serialization per watcher. In the browser it is a plain
//! value behind an `Arc`, which also makes handing it to a dozen panels cheap.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::ops::Deref;
use std::sync::Arc;

#[derive(Debug)]
struct Inner<T> {
    value: T,
    /// The value as JSON, made by the first response that sends it.
    #[cfg(feature = "ssr")]
    json: std::sync::OnceLock<Option<Box<serde_json::value::RawValue>>>,
}

/// `T` shared by reference; serializes exactly as `T` does.
#[derive(Debug)]
pub struct Shared<T>(Arc<Inner<T>>);

impl<T> Shared<T> {
    pub fn new(value: T) -> Self {
        Shared(Arc::new(Inner {
            value,
            #[cfg(feature = "ssr")]
            json: std::sync::OnceLock::new(),
        }))
    }
}

impl<T> Clone for Shared<T> {
    fn clone(&self) -> Self {
        Shared(Arc::clone(&self.0))
    }
}

impl<T> Deref for Shared<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0.value
    }
}

impl<T: PartialEq> PartialEq for Shared<T> {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.0.value == other.0.value
    }
}

impl<T: Eq> Eq for Shared<T> {}

impl<T: Serialize> Serialize for Shared<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[cfg(feature = "ssr")]
        {
            let json = self
                .0
                .json
                .get_or_init(|| serde_json::value::to_raw_value(&self.0.value).ok());
            // RawValue writes itself verbatim into serde_json; any other
            // serializer sees an ordinary value.
            if let Some(json) = json {
                return json.serialize(serializer);
            }
        }
        self.0.value.serialize(serializer)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Shared<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(deserializer).map(Shared::new)
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Room {
        title: String,
        entries: Vec<u32>,
    }

    #[test]
    fn it_serializes_as_its_value_and_reads_back() {
        let room = Shared::new(Room {
            title: "Checkout \"down\"".to_owned(),
            entries: vec![1, 2, 3],
        });
        let plain = serde_json::to_string(&*room).expect("plain");
        // Twice: the second answer comes from the JSON kept by the first.
        assert_eq!(serde_json::to_string(&room).expect("shared"), plain);
        assert_eq!(serde_json::to_string(&room.clone()).expect("again"), plain);
        let back: Shared<Room> = serde_json::from_str(&plain).expect("back");
        assert_eq!(back, room);
    }

    #[test]
    fn inside_another_value_it_is_an_ordinary_field() {
        #[derive(Serialize)]
        struct Answer {
            room: Shared<Room>,
            me: i64,
        }
        let answer = Answer {
            room: Shared::new(Room {
                title: "t".to_owned(),
                entries: vec![],
            }),
            me: 7,
        };
        let json: serde_json::Value =
            serde_json::from_str(&serde_json::to_string(&answer).expect("json")).expect("value");
        assert_eq!(
            json,
            serde_json::json!({"room": {"title": "t", "entries": []}, "me": 7})
        );
    }
}
