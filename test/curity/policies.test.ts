/** Curity's CrossGuard rules, each on a compliant and a violating resource or stack. */
import { describe, expect, it } from "vitest";
import { CURITY_TYPES } from "../../components/federation/curity/policies";
import { TYPES } from "../../components/policies";
import { makeCertificate } from "../fixtures";
import {
  everyRuleTested,
  goodValues,
  ISSUER,
  release,
  stackViolations,
  violations,
} from "../support/policy-harness";

describe("Curity rules", () => {
  const TOKEN = "https://login.example.com/oauth/v2/oauth-token";
  const assertion = { audience: TOKEN, tokenUrl: TOKEN, issuer: ISSUER, algorithm: "RS256" };
  const jwtBody = {
    "jwks-uri": { uri: `${ISSUER}/keys` },
    "assertion-jwt-validation": { issuer: ISSUER },
  };
  const client = (props: Record<string, unknown>) => ({
    type: CURITY_TYPES.client,
    name: "c",
    props,
  });
  const spire = (v = goodValues()) => ({
    type: TYPES.helmRelease,
    name: "spire",
    props: release(v),
  });

  it("curity-jwt-audience", async () => {
    const rule = "curity-jwt-audience";
    const helperConf = (audiences: string[]) => ({
      type: "kubernetes:core/v1:ConfigMap",
      name: "files-w",
      props: {
        metadata: { name: "w-spiffe", labels: { "spire-federation/workload": "w" } },
        data: {
          "helper.conf": `jwt_svids = [\n${audiences.map((a) => `  { jwt_audience = ${JSON.stringify(a)}, jwt_svid_file_name = "x.token" },`).join("\n")}\n]\n`,
        },
      },
    });
    const body = { ...jwtBody, "client-name": "w" };
    expect(
      await stackViolations(rule, [client({ body, assertion }), helperConf(["vault", TOKEN])]),
    ).toEqual([]);
    expect(await stackViolations(rule, [client({ body: {} })])).toEqual([]); // x509 only
    expect(await stackViolations(rule, [client({ body, assertion })])).toEqual([]); // no files
    expect(
      await stackViolations(rule, [
        client({ body, assertion: { ...assertion, audience: `${TOKEN}/` } }),
        helperConf([TOKEN]),
      ]),
    ).toEqual([
      `c: the audience ${TOKEN}/ must not end with a slash: it is the audience of JWT-SVIDs and Curity compares it exactly`,
      `c checks aud against ${TOKEN}/, but workload w's spiffe-helper fetches JWT-SVIDs for ${TOKEN}: Curity rejects every assertion whose aud is not its token endpoint; request a JWT-SVID for ${TOKEN}/`,
    ]);
    expect(await stackViolations(rule, [client({ body, assertion }), helperConf([])])).toEqual([
      `c checks aud against ${TOKEN}, but workload w's spiffe-helper fetches JWT-SVIDs for no audience: Curity rejects every assertion whose aud is not its token endpoint; request a JWT-SVID for ${TOKEN}`,
    ]);
  });

  it("curity-jwt-issuer", async () => {
    const rule = "curity-jwt-issuer";
    expect(await stackViolations(rule, [spire(), client({ body: jwtBody, assertion })])).toEqual(
      [],
    );
    expect(
      await stackViolations(rule, [
        spire(),
        client({
          body: { "mutual-tls": {}, "secondary-authentication-method": jwtBody },
          assertion,
        }),
      ]),
    ).toEqual([]);
    expect(
      await stackViolations(rule, [
        spire(),
        client({ body: { "jwks-uri": { uri: `${ISSUER}/keys` } }, assertion }),
      ]),
    ).toEqual([
      "c has no assertion-jwt-validation issuer: Curity then applies OpenID Connect Core rules (iss = sub = client id, jti required), which JWT-SVIDs never meet",
    ]);
    expect(
      await stackViolations(rule, [
        spire(),
        client({
          body: {
            "jwks-uri": { uri: `${ISSUER}/jwks` },
            "assertion-jwt-validation": { issuer: `${ISSUER}/` },
          },
          assertion,
        }),
      ]),
    ).toEqual([
      `c accepts assertions from issuer ${ISSUER}/, but SPIRE mints JWT-SVIDs with iss ${ISSUER}: Curity compares them exactly`,
      `c accepts issuer ${ISSUER}/, not SPIRE's ${ISSUER}`,
      `c fetches keys from ${ISSUER}/jwks, not from SPIRE's JWKS ${ISSUER}//keys: signatures of JWT-SVIDs will not verify`,
    ]);
    expect(await stackViolations(rule, [client({ body: {}, assertion })])).toEqual([
      "c expects JWT-SVIDs but has no jwks-uri verifier",
    ]);
  });

  it("curity-jwt-algorithm", async () => {
    const rule = "curity-jwt-algorithm";
    const allowed = { ...assertion, allowedAlgorithms: ["RS256", "ES256"] };
    expect(
      await stackViolations(rule, [spire(), client({ body: jwtBody, assertion: allowed })]),
    ).toEqual([]);
    const ec = goodValues();
    ec["spire-server"].caKeyType = "ec-p384";
    expect(
      await stackViolations(rule, [spire(ec), client({ body: jwtBody, assertion: allowed })]),
    ).toEqual([
      "SPIRE's caKeyType is ec-p384 but Curity JWT clients (c) exist: their token profile allows RS256, ES256 for client assertions (or the client expects only that), and Curity rejects JWT-SVIDs signed otherwise at token time: allow SPIRE's algorithm in the profile (curity.signatureAlgorithms) or change spire.caKeyType",
    ]);
    // without a declared list, the algorithm the client expects
    expect(await stackViolations(rule, [spire(ec), client({ body: jwtBody, assertion })])).toEqual([
      "SPIRE's caKeyType is ec-p384 but Curity JWT clients (c) exist: their token profile allows RS256 for client assertions (or the client expects only that), and Curity rejects JWT-SVIDs signed otherwise at token time: allow SPIRE's algorithm in the profile (curity.signatureAlgorithms) or change spire.caKeyType",
    ]);
  });

  it("curity-trust-store-ca", async () => {
    const rule = "curity-trust-store-ca";
    const ca = await makeCertificate({ subject: "CN=root", ca: true });
    const leaf = await makeCertificate({
      subject: "CN=oidc.example.com",
      ca: false,
      issuer: { subject: "CN=root", privateKey: ca.keys.privateKey },
    });
    const store = (pem: string) => ({ kind: "serverTrustStore", key: "spiffe-discovery-ca", pem });
    expect(await violations(rule, CURITY_TYPES.serverTrustStore, store(ca.pem))).toEqual([]);
    expect(
      await violations(rule, CURITY_TYPES.clientTrustStore, { kind: "clientTrustStore" }),
    ).toEqual([]); // unknown at preview
    expect(await violations(rule, CURITY_TYPES.serverTrustStore, store(leaf.pem))).toEqual([
      "the serverTrustStore entry spiffe-discovery-ca: its certificate is a leaf certificate (CN=oidc.example.com), not a CA: chains cannot be anchored to it",
    ]);
  });
});

everyRuleTested("curity");
