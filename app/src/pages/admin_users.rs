//! Admin: list users, create one (initial password shown once), change org role, disable.

use crate::api::users::{
    list_users, ChangeOrgRole, CreateUser, CreatedUser, ResetPassword, SetCanLead, SetUserDisabled,
    UserSummary,
};
use crate::api::ApiError;
use crate::components::{FieldMessage, FormMessage};
use crate::domain::users::OrgRole;
use crate::Auth;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn AdminUsersPage() -> impl IntoView {
    let auth = expect_context::<Auth>();
    let create = ServerAction::<CreateUser>::new();
    let change_role = ServerAction::<ChangeOrgRole>::new();
    let set_disabled = ServerAction::<SetUserDisabled>::new();
    let set_lead = ServerAction::<SetCanLead>::new();
    let reset = ServerAction::<ResetPassword>::new();
    let users = Resource::new(
        move || {
            (
                create.version().get(),
                change_role.version().get(),
                set_disabled.version().get(),
                set_lead.version().get(),
            )
        },
        |_| list_users(),
    );
    let row_error = Signal::derive(move || {
        let role_err = change_role.value().get().and_then(Result::err);
        let access_err = set_disabled.value().get().and_then(Result::err);
        let lead_err = set_lead.value().get().and_then(Result::err);
        let reset_err = reset.value().get().and_then(Result::err);
        role_err.or(access_err).or(lead_err).or(reset_err)
    });

    view! {
        <Title text="Users" />
        <super::admin_status::AdminNav />
        <h1>"Users"</h1>
        <Transition fallback=|| view! { <p class="loading">"Loading users…"</p> }>
            {move || Suspend::new(async move {
                let me = auth.state.await.ok().and_then(|s| s.user).map(|u| u.id);
                match users.await {
                    Ok(list) => {
                        view! {
                            <CreateUserForm action=create />
                            <FormMessage error=row_error />
                            <ResetPasswordNotice reset />
                            <UserTable users=list me change_role set_disabled set_lead reset />
                            <p class="hint">
                                <a href="/account/tokens" rel="external">"Everyone's API tokens"</a>
                                ": see and revoke them. "
                                <a href="/admin/sign-in" rel="external">"How people sign in"</a>
                                ": company sign-in, and turning passwords off."
                            </p>
                        }
                            .into_any()
                    }
                    Err(ApiError::Forbidden(message)) => {
                        view! {
                            <section class="panel" data-testid="forbidden">
                                <p class="notice">{message}</p>
                                <p class="hint">"Ask an admin if you need access."</p>
                            </section>
                        }
                            .into_any()
                    }
                    Err(e) => view! { <p class="notice notice-error">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn CreateUserForm(action: ServerAction<CreateUser>) -> impl IntoView {
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    let created = move || action.value().get().and_then(Result::ok);
    let pending = action.pending();
    view! {
        <section class="panel" aria-labelledby="new-user-heading">
            <h2 id="new-user-heading">"Add a user"</h2>
            <ActionForm action>
                <div class="form-row">
                    <div class="field">
                        <label for="new-name">"Name"</label>
                        <input id="new-name" name="name" maxlength="100" required />
                        <FieldMessage error field="name" />
                    </div>
                    <div class="field">
                        <label for="new-email">"E-mail"</label>
                        <input id="new-email" name="email" type="email" required />
                        <FieldMessage error field="email" />
                    </div>
                    <div class="field">
                        <label for="new-role">"Org role"</label>
                        <select id="new-role" name="org_role">
                            <option value="responder" selected>"Responder"</option>
                            <option value="viewer">"Viewer"</option>
                            <option value="admin">"Admin"</option>
                        </select>
                        <FieldMessage error field="org_role" />
                    </div>
                    <div class="field field-action">
                        <button type="submit" class="button-primary" disabled=move || pending.get()>
                            "Add user"
                        </button>
                    </div>
                </div>
                <FormMessage error />
            </ActionForm>
            {move || created().map(|c| view! { <InitialPassword created=c /> })}
        </section>
    }
}

#[component]
fn InitialPassword(created: CreatedUser) -> impl IntoView {
    view! {
        <div class="notice notice-success" role="status" data-testid="initial-password">
            <p>
                <strong>{created.user.name.clone()}</strong>
                " can sign in as "
                <strong>{created.user.email.clone()}</strong>
                " with this initial password:"
            </p>
            <p class="secret">
                <code>{created.initial_password.clone()}</code>
            </p>
            <p class="hint">"Share it privately. It is shown this once and not stored readable."</p>
        </div>
    }
}

/// The password an admin reset, shown this once.
#[component]
fn ResetPasswordNotice(reset: ServerAction<ResetPassword>) -> impl IntoView {
    move || {
        let password = reset.value().get().and_then(Result::ok)?;
        let who = reset.input().get().map(|r| r.user_id);
        Some(view! {
            <div class="notice notice-success" role="status" data-testid="reset-password" data-user=who>
                <p>"Password reset. They sign in with this once, then choose their own; their open sessions have ended:"</p>
                <p class="secret"><code>{password}</code></p>
                <p class="hint">"Share it privately. It is shown this once."</p>
            </div>
        })
    }
}

#[component]
fn UserTable(
    users: Vec<UserSummary>,
    /// The signed-in admin, who cannot disable themselves.
    me: Option<i64>,
    change_role: ServerAction<ChangeOrgRole>,
    set_disabled: ServerAction<SetUserDisabled>,
    set_lead: ServerAction<SetCanLead>,
    reset: ServerAction<ResetPassword>,
) -> impl IntoView {
    view! {
        <section class="panel" aria-labelledby="users-heading">
            <h2 id="users-heading">"Everyone"</h2>
            <table class="table">
                <thead>
                    <tr>
                        <th scope="col">"Name"</th>
                        <th scope="col">"E-mail"</th>
                        <th scope="col">"Org role"</th>
                        <th scope="col">
                            <span title="May authorise high-impact mitigations and see the leadership view, whatever the org role">"Leadership"</span>
                        </th>
                        <th scope="col">"Access"</th>
                    </tr>
                </thead>
                <tbody>
                    {users
                        .into_iter()
                        .map(|user| {
                            let is_me = me == Some(user.id);
                            view! { <UserRow user is_me change_role set_disabled set_lead reset /> }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </section>
    }
}

#[component]
fn UserRow(
    user: UserSummary,
    is_me: bool,
    change_role: ServerAction<ChangeOrgRole>,
    set_disabled: ServerAction<SetUserDisabled>,
    set_lead: ServerAction<SetCanLead>,
    reset: ServerAction<ResetPassword>,
) -> impl IntoView {
    let id = user.id;
    let can_lead = user.can_lead;
    let disabled = user.disabled;
    let current = user.org_role;
    view! {
        <tr class:row-disabled=disabled data-email=user.email.clone()>
            <td data-label="Name">{user.name.clone()}</td>
            <td data-label="E-mail">{user.email.clone()}</td>
            <td data-label="Org role">
                <select
                    aria-label=format!("Org role of {}", user.name)
                    on:change=move |ev| {
                        change_role
                            .dispatch(ChangeOrgRole {
                                user_id: id,
                                org_role: event_target_value(&ev),
                            });
                    }
                >
                    {OrgRole::ALL
                        .into_iter()
                        .map(|role| {
                            view! {
                                <option value=role.as_str() selected=role == current>
                                    {role.label()}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </td>
            <td data-label="Leadership">
                <label class="check-inline">
                    <input
                        type="checkbox"
                        checked=can_lead
                        aria-label=format!("{} may authorise mitigations", user.name)
                        on:change=move |_| {
                            set_lead.dispatch(SetCanLead { user_id: id, can_lead: !can_lead });
                        }
                    />
                    <span>"Authorises"</span>
                </label>
            </td>
            <td data-label="Access">
                <span class="access">
                    <span class="access-state">
                        {if disabled { "Disabled" } else { "Active" }}
                    </span>
                    {if is_me {
                        view! { <span class="hint">"This is you"</span> }.into_any()
                    } else {
                        view! {
                            <button
                                type="button"
                                class="button-quiet"
                                on:click=move |_| {
                                    set_disabled
                                        .dispatch(SetUserDisabled {
                                            user_id: id,
                                            disabled: !disabled,
                                        });
                                }
                            >
                                {if disabled { "Enable" } else { "Disable" }}
                            </button>
                            <button
                                type="button"
                                class="button-quiet"
                                on:click=move |_| {
                                    reset.dispatch(ResetPassword { user_id: id });
                                }
                            >
                                "Reset password"
                            </button>
                        }
                            .into_any()
                    }}
                </span>
            </td>
        </tr>
    }
}
