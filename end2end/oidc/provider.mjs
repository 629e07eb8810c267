// A real OpenID Connect provider on loopback for the company sign-in journey:
// npm's oidc-provider with its built-in login and consent pages (any login
// name, any password). The login name decides the role claim: a name with
// "admin" in it is an admin, one with "viewer" a viewer, anyone else a responder.
import Provider from "oidc-provider";

const port = Number(process.env.OIDC_PORT ?? "3111");
const app = process.env.CALMROOM_URL ?? "http://127.0.0.1:3110";
const issuer = `http://127.0.0.1:${port}`;

function role(login) {
  if (login.includes("admin")) return ["admin"];
  if (login.includes("viewer")) return ["viewer"];
  return ["responder"];
}

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: "calmroom",
      client_secret: "e2e client secret",
      redirect_uris: [`${app}/auth/oidc/callback`],
      post_logout_redirect_uris: [`${app}/sign-in`],
      grant_types: ["authorization_code"],
      response_types: ["code"],
    },
  ],
  async findAccount(_ctx, id) {
    return {
      accountId: id,
      async claims() {
        return {
          sub: id,
          email: `${id}@example.com`,
          email_verified: true,
          name: id.replace(/[-.]/g, " "),
          calmroom_role: role(id),
        };
      },
    };
  },
  claims: {
    openid: ["sub"],
    email: ["email", "email_verified"],
    profile: ["name"],
    calmroom: ["calmroom_role"],
  },
  scopes: ["openid", "email", "profile", "calmroom"],
  // The claims asked for go into the ID token too, as most company providers do.
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  cookies: { keys: ["calmroom e2e cookie key"] },
});

provider.listen(port, "127.0.0.1", () => {
  console.log(`oidc-provider listening on ${issuer}`);
});
