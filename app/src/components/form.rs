//! Error messages placed where the person is looking: at the field, or atop the form.

use crate::api::ApiError;
use leptos::prelude::*;

/// The message for one field, from the last answer of a form's action.
#[component]
pub fn FieldMessage(
    /// The last error of the form's action, if any.
    #[prop(into)]
    error: Signal<Option<ApiError>>,
    field: &'static str,
) -> impl IntoView {
    move || {
        error.get().and_then(|e| e.for_field(field)).map(|message| {
            view! {
                <p class="field-error" id=format!("{field}-error") role="alert">
                    {message}
                </p>
            }
        })
    }
}

/// The message for a whole form (wrong credentials, permission, server trouble).
#[component]
pub fn FormMessage(#[prop(into)] error: Signal<Option<ApiError>>) -> impl IntoView {
    move || {
        error.get().and_then(|e| e.for_form()).map(|message| {
            view! {
                <p class="form-error" role="alert">
                    {message}
                </p>
            }
        })
    }
}
