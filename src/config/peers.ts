// Peer M2M Service Providers of an IN-CSE [TS-0001 §5.2.2.4, the Mcc' reference point]: for each, the SP-ID, the
// CSE-ID of its IN-CSE (which that IN-CSE's certificate must name, `onem2m://SP/CSE-ID`) and the https URL it is
// reached at. Configured as `peers.list`: comma-separated `SP-ID/CSE-ID=https://host:port` entries.

/** One peer SP: requests for `//spId/...` go to its IN-CSE `csi` (SP-relative, `/id-in`) at `url`. */
export interface PeerSp {
  readonly spId: string;
  readonly csi: string;
  readonly url: string;
}

const ENTRY = /^([A-Za-z0-9][A-Za-z0-9\-.]{0,252})\/([A-Za-z0-9][A-Za-z0-9\-._~]{0,63})=(https:\/\/\S+)$/;

/** Parses `peers.list`; throws an Error naming the malformed entry. */
export function parsePeers(list: string, ownSpId: string): PeerSp[] {
  const peers: PeerSp[] = [];
  for (const raw of list.split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const m = ENTRY.exec(entry);
    if (!m) throw new Error(`'${entry}' is not SP-ID/CSE-ID=https://host:port`);
    const [, spId, cse, url] = m as unknown as [string, string, string, string];
    try {
      new URL(url);
    } catch {
      throw new Error(`'${entry}': ${url} is no URL`);
    }
    // SP-IDs are domain names: compared without case.
    if (spId.toLowerCase() === ownSpId.toLowerCase()) throw new Error(`'${entry}': ${spId} is this CSE's own SP (cse.spid)`);
    if (peers.some((p) => p.spId.toLowerCase() === spId.toLowerCase())) throw new Error(`'${entry}': SP ${spId} is listed twice`);
    peers.push({ spId, csi: `/${cse}`, url });
  }
  return peers;
}

/** The configured peer SP of that SP-ID, compared without case. */
export function peerOf(peers: readonly PeerSp[], spId: string): PeerSp | undefined {
  const wanted = spId.toLowerCase();
  return peers.find((p) => p.spId.toLowerCase() === wanted);
}

/** A PEM file of peers.ca and the peer SPs (SP-IDs in lower case) whose IN-CSEs the CAs in it vouch for. */
export interface PeerCaFile {
  readonly path: string;
  readonly spIds: readonly string[];
}

const CA_ENTRY = /^([A-Za-z0-9][A-Za-z0-9\-.]{0,252})=(\S.*)$/;

/**
 * Parses `peers.ca`: comma-separated `SP-ID=file` entries, one for each peer SP of peers.list, so that each peer's
 * CAs vouch for that peer's IN-CSE only; or one file, where peers.list names one peer. One file for several peers
 * would let each peer's CA issue certificates naming the others' IN-CSEs (and act as their SPs' originators here).
 */
export function parsePeerCas(value: string, peers: readonly PeerSp[]): PeerCaFile[] {
  const trimmed = value.trim();
  if (trimmed === '') return [];
  const entries = trimmed.split(',').map((e) => e.trim()).filter(Boolean);
  if (!CA_ENTRY.test(entries[0] as string)) {
    if (peers.length > 1) {
      throw new Error(`peers.list names ${peers.length} peer SPs: name each one's CA file (SP-ID=file, comma-separated), or each peer's CA would vouch for the other peers' IN-CSEs`);
    }
    return [{ path: trimmed, spIds: peers.map((p) => p.spId.toLowerCase()) }];
  }
  const files: PeerCaFile[] = [];
  for (const entry of entries) {
    const m = CA_ENTRY.exec(entry);
    if (!m) throw new Error(`'${entry}' is not SP-ID=file`);
    const [, spId, path] = m as unknown as [string, string, string];
    if (!peerOf(peers, spId)) throw new Error(`'${entry}': ${spId} is no SP of peers.list`);
    if (files.some((f) => f.spIds.includes(spId.toLowerCase()))) throw new Error(`'${entry}': SP ${spId} is named twice`);
    files.push({ path: path.trim(), spIds: [spId.toLowerCase()] });
  }
  const missing = peers.find((p) => !files.some((f) => f.spIds.includes(p.spId.toLowerCase())));
  if (missing) throw new Error(`no CA file is named for peer SP ${missing.spId}`);
  return files;
}
