/**
 * Upgrading the spire chart: one minor version at a time, spire-crds first, and the notes of each
 * minor version crossed. From the chart's README, "Upgrade notes" (spiffe/helm-charts-hardened
 * tag spire-0.30.0, `charts/spire/README.md`; carried in
 * `test/contracts/spire/spire-0.30.0-upgrade-notes.md`): "We only support upgrading one
 * major/minor version at a time. Version skipping isn't supported."
 */

/** Where the upgrade notes are published. */
export const SPIRE_UPGRADE_NOTES_URL =
  "https://github.com/spiffe/helm-charts-hardened/blob/main/charts/spire/README.md#upgrade-notes";

/**
 * The chart's upgrade notes, one line each, by the minor version whose heading (`### 0.30.X`)
 * carries them. A test holds the headings against the carried README.
 */
export const SPIRE_UPGRADE_NOTES: Readonly<Record<string, readonly string[]>> = {
  "0.30": [
    "upgrade spire-crds first",
    "the OIDC discovery issuer is now set automatically: check each relying party's integration",
    "x509pop in spiffe mode has new defaults",
    "spike entries need spire-server.spike.enabled=true",
  ],
  "0.26": [
    "notifier.k8sBundle is deprecated for bundlePublisher.k8sConfigMap",
    "the default trust bundle format is now spiffe",
  ],
  "0.24": [
    "spire-crds must be 0.5.0 or later first",
    "useNewContainerLocator defaults to true",
    "the default ClusterSPIFFEID is a fallback",
    "spire-server.dataStore.sql.plugin_data is removed",
    "certManager honours global.spire.caSubject (may change the CA subject)",
    "many values were renamed to camel case",
  ],
  "0.23": ["skipKubeletVerification is replaced by workloadAttestors.k8s.verification.type"],
  "0.21": [
    "certManager.issuer_name no longer gets -ca appended",
    "entryIDPrefixCleanup defaults to false",
  ],
  "0.20": ["the server's service port is now 443", "controller-manager entries move space"],
  "0.19": ["the spire-agent daemonset gained a label (delete it first if upgrade hooks are off)"],
  "0.18": ["no x509UniqueIdentifier by default", "agents reattest automatically"],
  "0.17": [
    "set spire-server.replicaCount to 1 during the upgrade",
    "the OIDC discovery provider is on by default with new TLS options",
  ],
  "0.16": ["controllerManager.identities moved under clusterSPIFFEIDs.default"],
  "0.15": ["upgrade spire-crds first", "controller managers watch their className only"],
  "0.14": ["relabel the CRDs for the spire-crds chart"],
};

/** `major.minor` of a version such as `0.30.0`, or undefined when it is not one. */
function minorOf(version: string): [number, number] | undefined {
  const m = /^v?(\d+)\.(\d+)\.\d+(?:[-+].*)?$/.exec(version);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

/** The minor versions an upgrade from `from` to `to` crosses (after `from`, up to `to`). */
export function crossedMinors(from: string, to: string): string[] {
  const a = minorOf(from);
  const b = minorOf(to);
  if (!a || !b) return [];
  return Object.keys(SPIRE_UPGRADE_NOTES)
    .map((k) => [k, ...k.split(".").map(Number)] as [string, number, number])
    .filter(([, maj, min]) => {
      const after = maj > a[0] || (maj === a[0] && min > a[1]);
      const upTo = maj < b[0] || (maj === b[0] && min <= b[1]);
      return after && upTo;
    })
    .sort((x, y) => x[1] - y[1] || x[2] - y[2])
    .map(([k]) => k);
}

/** The notes to read for an upgrade, as one phrase (empty when none apply). */
export function upgradeNotes(from: string, to: string): string {
  return crossedMinors(from, to)
    .map((k) => `${k}.X: ${(SPIRE_UPGRADE_NOTES[k] ?? []).join("; ")}`)
    .join(" | ");
}

/**
 * Why upgrading the spire chart from `from` to `to` is refused (it skips a minor or a major
 * version), or undefined. Same version, a patch, the next minor, the next major's `.0` and
 * downgrades pass.
 */
export function spireUpgradeProblem(from: string, to: string): string | undefined {
  const a = minorOf(from);
  const b = minorOf(to);
  if (!a || !b) return undefined;
  const nextMinor = b[0] === a[0] && b[1] <= a[1] + 1;
  const nextMajor = b[0] === a[0] + 1 && b[1] === 0;
  if (nextMinor || nextMajor) return undefined;
  const step = b[0] === a[0] ? `${a[0]}.${a[1] + 1}.x` : `${a[0] + 1}.0.x`;
  const notes = upgradeNotes(from, to);
  return (
    `the spire chart goes from ${from} to ${to}, skipping a version; it upgrades one minor ` +
    `version at a time (spire-crds first): deploy ${step} first` +
    (notes ? `, and read the chart's upgrade notes (${SPIRE_UPGRADE_NOTES_URL}): ${notes}` : "")
  );
}
