-- Company sign-in (OpenID Connect). A sign-in under way is kept here, not in
-- the browser's session, so the provider's callback may land on any replica;
-- each row is used once and is worthless after ten minutes.
CREATE TABLE oidc_logins (
    state TEXT PRIMARY KEY,
    nonce TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    return_to TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX oidc_logins_created ON oidc_logins (created_at);

-- Which provider account is which person: the provider's issuer and its
-- stable subject identifier (never the e-mail address, which can change).
CREATE TABLE user_identities (
    issuer TEXT NOT NULL,
    subject TEXT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id),
    created_at TIMESTAMPTZ NOT NULL,
    last_sign_in_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (issuer, subject)
);
CREATE INDEX user_identities_user ON user_identities (user_id);

-- Instance-wide switches an admin turns from the web.
CREATE TABLE instance_settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    updated_by BIGINT REFERENCES users (id)
);
