/* global document, location, Node, fetch, sessionStorage, crypto, URL, atob, Blob */
// The auditor portal: static, no build step. It runs only persisted operations, by id
// (/portal/operations.json maps their names to ids); the server refuses anything else.
'use strict';

const TOKEN_KEY = 'ig-auditor-token';
const state = { token: null, ops: null, engagements: [], selected: null, packs: [], scorecardGroup: 'SERVICE' };

const $ = (id) => document.getElementById(id);
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat())
    if (c !== null && c !== undefined) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

const fmtDate = (iso) =>
  iso
    ? new Date(iso)
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d{3}Z$/, ' UTC')
    : '—';
const fmtDay = (iso) => new Date(iso).toISOString().slice(0, 10);
const fmtBytes = (n) => (n < 1024 ? `${n} B` : n < 1048576 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1048576).toFixed(1)} MiB`);
const short = (hex) => `${hex.slice(0, 12)}…${hex.slice(-6)}`;

function claimsOf(token) {
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(part + '='.repeat((4 - (part.length % 4)) % 4)));
  } catch {
    return null;
  }
}

class ApiError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

async function run(name, variables = {}) {
  const id = state.ops[name];
  if (!id) throw new ApiError('PORTAL', `operation ${name} is not published`);
  const res = await fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${state.token}` },
    body: JSON.stringify({ operationName: name, variables, extensions: { persistedQuery: { version: 1, sha256Hash: id } } }),
  });
  const body = await res.json().catch(() => ({}));
  if (res.status === 401) {
    signOut('Your token was refused (expired or invalid). Sign in again.');
    throw new ApiError('UNAUTHENTICATED', 'signed out');
  }
  if (body.errors && body.errors.length) {
    const e = body.errors[0];
    throw new ApiError((e.extensions && e.extensions.code) || 'ERROR', e.message);
  }
  return body.data;
}

function showError(err) {
  const box = $('error');
  box.textContent = err instanceof ApiError ? `${err.message} (${err.code})` : String(err && err.message ? err.message : err);
  box.hidden = false;
}
function notice(text) {
  const box = $('notice');
  box.textContent = text;
  box.hidden = false;
}
function clearBanners() {
  $('error').hidden = true;
  $('notice').hidden = true;
}
function empty(title, text) {
  return el('div', { class: 'empty' }, el('h3', { text: title }), el('p', { text }));
}

// RFC 6962 inclusion proof check (same algorithm as src/ledger/merkle.ts verifyInclusion).
const hexToBytes = (hex) => Uint8Array.from(hex.match(/../g).map((b) => parseInt(b, 16)));
const bytesToHex = (b) => Array.from(new Uint8Array(b), (x) => x.toString(16).padStart(2, '0')).join('');
async function nodeHash(left, right) {
  const data = new Uint8Array(1 + left.length + right.length);
  data[0] = 1;
  data.set(left, 1);
  data.set(right, 1 + left.length);
  return new Uint8Array(await crypto.subtle.digest('SHA-256', data));
}
async function verifyInclusion(p) {
  let fn = p.seq - 1;
  let sn = p.treeSize - 1;
  if (fn < 0 || fn > sn) return false;
  let r = hexToBytes(p.leafHash);
  for (const hex of p.auditPath) {
    if (sn === 0) return false;
    const sib = hexToBytes(hex);
    if (fn % 2 === 1 || fn === sn) {
      r = await nodeHash(sib, r);
      if (fn % 2 === 0)
        while (fn % 2 === 0 && fn !== 0) {
          fn >>= 1;
          sn >>= 1;
        }
    } else {
      r = await nodeHash(r, sib);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn === 0 && bytesToHex(r) === p.rootHash;
}

function signOut(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  state.token = null;
  state.selected = null;
  $('app').hidden = true;
  $('who').hidden = true;
  $('sign-in').hidden = false;
  const err = $('sign-in-error');
  err.textContent = message || '';
  err.hidden = !message;
}

async function signIn(token) {
  const claims = claimsOf(token);
  if (!claims) return signOut('That does not look like a bearer token (three dot-separated parts).');
  if (claims.exp && claims.exp * 1000 < Date.now()) return signOut('That token has expired. Ask your compliance contact for a new one.');
  state.token = token;
  sessionStorage.setItem(TOKEN_KEY, token);
  $('sign-in').hidden = true;
  $('app').hidden = false;
  $('who').hidden = false;
  $('who-name').textContent = claims.sub || 'unknown';
  await loadEngagements();
}

async function loadEngagements() {
  const list = $('engagements');
  list.replaceChildren(el('div', { class: 'loading', text: 'Loading engagements…' }));
  try {
    const data = await run('AuditorEngagements');
    state.engagements = data.auditEngagements;
  } catch (err) {
    if (err.code === 'UNAUTHENTICATED') return;
    list.replaceChildren(el('div', { class: 'banner error', text: `Could not load engagements: ${err.message}` }));
    return;
  }
  if (state.engagements.length === 0) {
    list.replaceChildren(empty('No engagements', 'Your token names no engagement assigned to you. Ask your compliance contact.'));
    return;
  }
  list.replaceChildren(
    ...state.engagements.map((e) =>
      el(
        'button',
        { type: 'button', class: 'engagement-item', 'data-id': e.id, onclick: () => select(e.id) },
        el('span', { class: 'name', text: e.name }),
        el('span', { class: 'period', text: `${fmtDay(e.startsAt)} → ${fmtDay(e.endsAt)}` }),
      ),
    ),
  );
  await select(state.engagements[0].id);
}

async function select(id) {
  state.selected = state.engagements.find((e) => e.id === id);
  for (const b of document.querySelectorAll('.engagement-item')) b.setAttribute('aria-current', String(b.dataset.id === id));
  const e = state.selected;
  $('no-selection').hidden = true;
  $('engagement').hidden = false;
  clearBanners();
  $('eng-name').textContent = e.name;
  $('eng-meta').textContent = `Audited period ${fmtDay(e.startsAt)} to ${fmtDay(e.endsAt)} · engagement ${e.id}`;
  $('eng-scope').replaceChildren(...e.scope.map((k) => el('span', { class: 'chip', text: k })));
  await Promise.all([loadPacks(), loadRequests(), loadScorecards()]);
}

/** The scorecards panel: AuditorScorecards of the selected engagement's scope, per service or per team. */
async function loadScorecards() {
  const box = $('scorecards');
  const group = state.scorecardGroup;
  for (const tab of document.querySelectorAll('#scorecards-panel .tab'))
    tab.setAttribute('aria-selected', String(tab.dataset.group === group));
  box.replaceChildren(el('div', { class: 'loading', text: 'Loading scorecards…' }));
  let cards;
  try {
    cards = (await run('AuditorScorecards', { engagementId: state.selected.id, groupBy: group })).engagementScorecards;
  } catch (err) {
    box.replaceChildren(el('div', { class: 'banner error', text: `Could not load scorecards: ${err.message}` }));
    return;
  }
  if (cards.length === 0) {
    box.replaceChildren(empty('No scorecards', 'No service in the scope of this engagement has a scorecard yet.'));
    return;
  }
  const team = group === 'TEAM';
  box.replaceChildren(
    el(
      'table',
      { class: 'scorecards', 'data-group': group },
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          el('th', { text: team ? 'Team' : 'Service' }),
          team ? el('th', { text: 'Weakest service' }) : el('th', { text: 'Team' }),
          el('th', { text: 'Score' }),
          el('th', { text: 'Threshold' }),
          el('th', { text: 'Status' }),
          el('th', { text: 'Computed' }),
        ),
      ),
      el(
        'tbody',
        {},
        cards.map((c) =>
          el(
            'tr',
            { 'data-scorecard': team ? c.team : c.serviceId },
            el('td', {}, el('code', { text: team ? c.team : c.serviceId })),
            el('td', { text: (team ? c.weakestServiceId : c.team) || '—' }),
            el(
              'td',
              { class: 'num' },
              el('meter', {
                min: '0',
                max: '1',
                low: String(c.threshold),
                optimum: '1',
                value: String(c.score),
                title: `score ${c.score}`,
              }),
              ` ${c.score.toFixed(3)}`,
            ),
            el('td', { class: 'num', text: c.threshold.toFixed(3) }),
            el(
              'td',
              {},
              el('span', { class: `status ${c.passing ? 'passing' : 'failing'}`, text: c.passing ? 'passing' : 'below threshold' }),
            ),
            el('td', { class: 'small muted', text: fmtDate(c.computedAt) }),
          ),
        ),
      ),
    ),
  );
}

async function loadPacks() {
  const box = $('packs');
  box.replaceChildren(el('div', { class: 'loading', text: 'Loading packs…' }));
  try {
    state.packs = (await run('AuditorPacks', { engagementId: state.selected.id })).auditPacks;
  } catch (err) {
    box.replaceChildren(el('div', { class: 'banner error', text: `Could not load packs: ${err.message}` }));
    return;
  }
  if (state.packs.length === 0)
    box.replaceChildren(
      empty('No packs yet', 'Compliance has not generated a pack for this engagement. You will see it here as soon as it exists.'),
    );
  else box.replaceChildren(...state.packs.map(renderPack));
  renderReceipts();
}

function renderPack(p) {
  const linkBox = el('div', { class: 'link-box' });
  const download = el(
    'button',
    { type: 'button', class: 'primary', 'data-pack': p.id, onclick: () => downloadPack(p, download, linkBox) },
    'Download pack',
  );
  return el(
    'article',
    { class: 'pack', 'data-pack-id': p.id },
    el(
      'div',
      { class: 'pack-head' },
      el(
        'div',
        {},
        el('div', { class: 'pack-title', text: `External Audit Pack ${p.version}` }),
        el('div', { class: 'muted small', text: `Generated ${fmtDate(p.createdAt)}` }),
      ),
      download,
    ),
    el(
      'dl',
      { class: 'pack-facts' },
      el('dt', { text: 'Pack id' }),
      el('dd', {}, el('code', { text: p.id })),
      el('dt', { text: 'manifest.json sha256' }),
      el('dd', {}, el('code', { title: p.manifestDigest, text: short(p.manifestDigest) })),
      el('dt', { text: 'Archive' }),
      el('dd', {}, `${fmtBytes(p.archiveSize)} · sha256 `, el('code', { title: p.archiveSha256, text: short(p.archiveSha256) })),
      el('dt', { text: 'Ledger tree head' }),
      el('dd', {}, `size ${p.ledgerTreeSize} · root `, el('code', { title: p.ledgerRootHash, text: short(p.ledgerRootHash) })),
      el('dt', { text: 'Files' }),
      el('dd', { text: `${p.files.length} listed in the signed manifest` }),
    ),
    el('div', { class: 'watermark', text: p.watermark }),
    verifyBox(p),
    el(
      'details',
      {},
      el('summary', { text: 'Manifest' }),
      el(
        'table',
        {},
        el(
          'thead',
          {},
          el('tr', {}, el('th', { text: 'Path' }), el('th', { text: 'Kind' }), el('th', { text: 'Size' }), el('th', { text: 'sha256' })),
        ),
        el(
          'tbody',
          {},
          p.files.map((f) =>
            el(
              'tr',
              {},
              el('td', {}, el('code', { text: f.path })),
              el('td', { text: f.kind || '' }),
              el('td', { class: 'num', text: fmtBytes(f.size) }),
              el('td', {}, el('code', { title: f.sha256, text: short(f.sha256) })),
            ),
          ),
        ),
      ),
    ),
    linkBox,
  );
}

/**
 * "Verify this pack": the command an auditor runs on the downloaded archive (the verifier travels
 * inside it) and the fingerprint of the key that signed its manifest, read from the signed
 * manifest (AuditorPack), to compare with the one published out of band.
 */
function verifyBox(p) {
  const dir = `pack-${p.id.slice(0, 8)}`;
  const fingerprint = el('code', { class: 'fingerprint', text: 'loading…' });
  const box = el(
    'div',
    { class: 'verify-box', 'data-verify': p.id },
    el('div', { class: 'verify-title', text: 'Verify this pack' }),
    el(
      'p',
      { class: 'muted small' },
      'Only Node.js 18 or later is needed: the verifier (verify.mjs) is inside the pack. It checks the signature, every file, the watermark and the ledger proofs; exit code 0 means verified.',
    ),
    el(
      'pre',
      { class: 'command' },
      el('code', { text: `mkdir ${dir} && tar -xzf audit-pack-${p.id}.tgz -C ${dir}\ncd ${dir} && node verify.mjs` }),
    ),
    el('div', { class: 'small' }, 'Signing key fingerprint (sha256 of the key’s DER), printed first by the verifier: ', fingerprint),
    el('p', {
      class: 'muted small',
      text:
        'It must equal the fingerprint in your engagement letter. Prefer not to run a script from the pack? npx @intelgraph/evidence-verify ' +
        dir,
    }),
  );
  run('AuditorPack', { id: p.id })
    .then((d) => {
      const keyId = d.auditPack && d.auditPack.manifest && d.auditPack.manifest.signing ? d.auditPack.manifest.signing.keyId : null;
      fingerprint.textContent = keyId || 'unavailable';
    })
    .catch((err) => {
      fingerprint.textContent = `unavailable: ${err.message}`;
    });
  return box;
}

async function downloadPack(p, button, linkBox) {
  clearBanners();
  button.disabled = true;
  button.textContent = 'Preparing…';
  try {
    const link = (await run('AuditorIssuePackLink', { packId: p.id, ttlSeconds: 900 })).issuePackLink;
    linkBox.textContent = `Link issued for ${link.boundTo}, valid until ${fmtDate(link.expiresAt)}. Downloading…`;
    // The link names PUBLIC_URL (or the address the server listened on), which need not be the
    // origin this page was opened at (localhost vs 127.0.0.1, a proxy): fetched from this page's
    // own origin, as its CSP (connect-src 'self') requires.
    const { pathname } = new URL(link.url, location.href);
    const res = await fetch(pathname, { headers: { authorization: `Bearer ${state.token}` }, referrerPolicy: 'no-referrer' });
    if (!res.ok) {
      const body = await res.json().catch(() => ({}));
      throw new ApiError(`HTTP ${res.status}`, body.message || 'download refused');
    }
    const blob = new Blob([await res.arrayBuffer()], { type: 'application/gzip' });
    const a = el('a', { href: URL.createObjectURL(blob), download: `audit-pack-${p.id}.tgz` });
    document.body.append(a);
    a.click();
    a.remove();
    const seq = res.headers.get('x-receipt-ledger-seq');
    linkBox.textContent = `Downloaded. Receipt recorded as ledger entry ${seq}. Verify offline with: ig-evidence verify audit-pack-${p.id}.tgz --key signing-key.pub`;
    notice(`Pack downloaded; access receipt #${seq} recorded in the ledger.`);
    await loadPacks();
  } catch (err) {
    showError(err);
  } finally {
    button.disabled = false;
    button.textContent = 'Download pack';
  }
}

function renderReceipts() {
  const box = $('receipts');
  const rows = state.packs.flatMap((p) => p.receipts.map((r) => ({ ...r, packId: p.id, version: p.version })));
  if (rows.length === 0) {
    box.replaceChildren(
      empty('No downloads yet', 'Every download of a pack of this engagement will be listed here with its ledger entry.'),
    );
    return;
  }
  box.replaceChildren(
    el(
      'table',
      {},
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          el('th', { text: 'When' }),
          el('th', { text: 'Who' }),
          el('th', { text: 'Pack' }),
          el('th', { text: 'Ledger entry' }),
          el('th', { text: 'Inclusion' }),
        ),
      ),
      el(
        'tbody',
        {},
        rows.map((r) => {
          const cell = el('td', {});
          const button = el(
            'button',
            { type: 'button', class: 'small', 'data-seq': String(r.ledgerSeq), onclick: () => prove(r, cell, button) },
            'Verify proof',
          );
          cell.append(button);
          return el(
            'tr',
            { 'data-receipt-id': r.id },
            el('td', { text: fmtDate(r.at) }),
            el('td', {}, el('code', { text: r.actor })),
            el('td', {}, el('code', { text: r.packId.slice(0, 8) }), ` ${r.version}`),
            el('td', { class: 'num', text: `#${r.ledgerSeq}` }),
            cell,
          );
        }),
      ),
    ),
  );
}

async function prove(receipt, cell, button) {
  button.disabled = true;
  try {
    const p = (await run('AuditorReceiptProof', { seq: receipt.ledgerSeq })).ledgerProof;
    const ok = await verifyInclusion(p);
    cell.replaceChildren(
      el('span', { class: ok ? 'proof-ok' : 'proof-bad', text: ok ? '✓ included' : '✗ proof does not verify' }),
      el('div', { class: 'muted small', text: `tree size ${p.treeSize}, root ${short(p.rootHash)}` }),
    );
  } catch (err) {
    cell.replaceChildren(el('span', { class: 'proof-bad', text: `unavailable: ${err.message}` }));
  }
}

async function loadRequests() {
  const box = $('requests');
  box.replaceChildren(el('div', { class: 'loading', text: 'Loading requests…' }));
  let requests;
  try {
    requests = (await run('AuditorRequests', { engagementId: state.selected.id })).auditRequests;
  } catch (err) {
    box.replaceChildren(el('div', { class: 'banner error', text: `Could not load requests: ${err.message}` }));
    return;
  }
  if (requests.length === 0) {
    box.replaceChildren(empty('No requests', 'Nothing asked yet. Use the field above; compliance will attach evidence.'));
    return;
  }
  box.replaceChildren(
    el(
      'table',
      {},
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          el('th', { text: 'Asked' }),
          el('th', { text: 'Item' }),
          el('th', { text: 'Status' }),
          el('th', { text: 'Evidence attached' }),
        ),
      ),
      el(
        'tbody',
        {},
        [...requests]
          .reverse()
          .map((r) =>
            el(
              'tr',
              { 'data-request-id': r.id },
              el('td', { text: fmtDate(r.createdAt) }),
              el('td', { text: r.item }),
              el(
                'td',
                {},
                el('span', { class: `status ${r.status}`, text: r.status }),
                r.fulfilledAt ? el('div', { class: 'muted small', text: fmtDate(r.fulfilledAt) }) : null,
              ),
              el(
                'td',
                {},
                r.evidence.length
                  ? r.evidence.map((e) =>
                      el(
                        'div',
                        {},
                        el('span', { class: 'chip', text: e.kind }),
                        ' ',
                        el('code', { title: e.sha256, text: `${e.serviceId}${e.tenantId ? `/${e.tenantId}` : ''} · ${e.id.slice(0, 8)}` }),
                      ),
                    )
                  : el('span', { class: 'muted', text: '—' }),
              ),
            ),
          ),
      ),
    ),
  );
}

async function submitRequest(event) {
  event.preventDefault();
  clearBanners();
  const input = $('request-item');
  const item = input.value.trim();
  if (!item) return;
  const button = event.submitter;
  if (button) button.disabled = true;
  try {
    await run('AuditorSubmitRequest', { engagementId: state.selected.id, item });
    input.value = '';
    notice('Request submitted. Compliance has been notified through the ledger.');
    await loadRequests();
  } catch (err) {
    showError(err);
  } finally {
    if (button) button.disabled = false;
  }
}

async function start() {
  $('sign-in-form').addEventListener('submit', (event) => {
    event.preventDefault();
    signIn($('token').value.trim());
  });
  $('sign-out').addEventListener('click', () => signOut());
  $('request-form').addEventListener('submit', submitRequest);
  for (const tab of document.querySelectorAll('#scorecards-panel .tab'))
    tab.addEventListener('click', () => {
      state.scorecardGroup = tab.dataset.group;
      loadScorecards();
    });
  try {
    const res = await fetch('/portal/operations.json');
    state.ops = await res.json();
  } catch {
    state.ops = {};
  }
  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) await signIn(saved);
  else signOut();
}

start();
