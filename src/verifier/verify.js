// The checker behind verify.html: is this PDF the one the vendor signed, says its .minisig?
//
// Trust comes only from the key pinned in this page (the JSON block "dpa-pinned"). A .minisig's
// global signature covers its signature bytes and its trusted comment, so once that verifies with
// the pinned key, the comment's sha256= names the PDF that was signed; the chosen PDF is hashed
// here and compared. No network request is made, and no key is ever taken from the files.
(function () {
  'use strict';

  const PINNED = JSON.parse(document.getElementById('dpa-pinned').textContent);
  const VENDOR = PINNED.vendor;
  const el = (id) => document.getElementById(id);
  const chosen = { pdf: null, minisig: null };
  let generation = 0; // each check gets a number; a stale result is never shown

  // ---- bytes and text ----------------------------------------------------------------------
  const toHex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  const fromHex = (hex) => Uint8Array.from(hex.match(/../g) || [], (h) => parseInt(h, 16));
  const sameBytes = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
  const startsWith = (bytes, ascii) => ascii.split('').every((c, i) => bytes[i] === c.charCodeAt(0));
  // minisign prints a key id as a little-endian number in upper-case hex; do the same.
  const keyIdText = (id) => toHex(Array.from(id).reverse()).toUpperCase();
  const grouped = (hex) => hex.toLowerCase().replace(/(.{4})(?=.)/g, '$1 ');
  const quoted = (name) => '\u201c' + name + '\u201d';

  function fromBase64(text) {
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) return null;
    try {
      return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
    } catch (e) {
      return null;
    }
  }

  async function readBytes(file) {
    try {
      return new Uint8Array(await file.arrayBuffer());
    } catch (e) {
      return null;
    }
  }

  // ---- the pinned key ------------------------------------------------------------------------
  let keyPromise = null;
  function pinnedKey() {
    if (!keyPromise) {
      keyPromise = (async () => {
        if (!window.crypto || !window.crypto.subtle) return null;
        try {
          const raw = fromHex(PINNED.publicKey);
          return await crypto.subtle.importKey('raw', raw, { name: 'Ed25519' }, false, ['verify']);
        } catch (e) {
          return null; // this browser has no Ed25519 in WebCrypto
        }
      })();
    }
    return keyPromise;
  }

  // ---- the two formats -----------------------------------------------------------------------
  // A .minisig: "untrusted comment: ...", base64("ED" || key id[8] || signature[64]),
  // "trusted comment: TEXT", base64(global signature[64] over signature || TEXT).
  function parseMinisig(bytes) {
    let text;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch (e) {
      return null;
    }
    const lines = text.split(/\r?\n/);
    if (lines.length < 4 || lines.slice(4).some((line) => line.trim() !== '')) return null;
    const [untrusted, sigLine, trusted, globalLine] = lines;
    const prefix = 'trusted comment: ';
    if (!untrusted.startsWith('untrusted comment:') || !trusted.startsWith(prefix)) return null;
    const sig = fromBase64(sigLine.trim());
    const global = fromBase64(globalLine.trim());
    if (!sig || sig.length !== 74 || !global || global.length !== 64) return null;
    const algorithm = String.fromCharCode(sig[0], sig[1]);
    if (algorithm !== 'ED' && algorithm !== 'Ed') return null;
    return { keyId: sig.slice(2, 10), signature: sig.slice(10), comment: trusted.slice(prefix.length), global };
  }

  // Our trusted comment: "dpa/1 file=X.pdf sha256=<hex> annex=<version> annex_sha256=<hex>
  // customer=<id> issued=<date> key=<id>". A value runs up to the next " name=", so a file
  // name with spaces survives; a field given twice makes the statement ambiguous.
  function parseStatement(comment) {
    if (!comment.startsWith('dpa/1 ')) return null;
    const marks = Array.from(comment.matchAll(/ ([a-z][a-z0-9_]*)=/g));
    const fields = {};
    for (let i = 0; i < marks.length; i++) {
      const m = marks[i];
      const end = i + 1 < marks.length ? marks[i + 1].index : comment.length;
      if (Object.prototype.hasOwnProperty.call(fields, m[1])) return null;
      fields[m[1]] = comment.slice(m.index + m[0].length, end);
    }
    return /^[0-9a-fA-F]{64}$/.test(fields.sha256 || '') ? fields : null;
  }

  // ---- the check -----------------------------------------------------------------------------
  const invalid = (reason, title, text, facts) => ({ valid: false, reason, title, text, facts });
  const cannot = (text) => invalid('unreadable', 'Could not check: a file is unreadable', text);

  async function check(pdfFile, sigFile) {
    const key = await pinnedKey();
    if (!key) return UNSUPPORTED;
    const [pdf, sigBytes] = await Promise.all([readBytes(pdfFile), readBytes(sigFile)]);
    if (!pdf) return cannot('The browser could not read the PDF ' + quoted(pdfFile.name) + '.');
    if (!sigBytes) return cannot('The browser could not read the signature file ' + quoted(sigFile.name) + '.');
    if (startsWith(sigBytes, '%PDF')) {
      return cannot(quoted(sigFile.name) + ' is a PDF, not a signature. In box 2, choose the file ' +
        'ending in .minisig that came with the agreement.');
    }
    if (startsWith(pdf, 'untrusted comment:')) {
      return cannot(quoted(pdfFile.name) + ' is a signature file, not the agreement. In box 1, choose the PDF.');
    }
    const sig = parseMinisig(sigBytes);
    if (!sig) {
      return cannot(quoted(sigFile.name) + ' is not a minisign signature (.minisig), or it is damaged. ' +
        'Ask ' + VENDOR + ' to send the signature file again.');
    }

    if (!sameBytes(sig.keyId, fromHex(PINNED.keyId))) {
      return invalid('different-key', 'Not valid: signed by a different key',
        'This signature was made with the key ' + keyIdText(sig.keyId) + ', not with the key this ' +
        'page trusts (' + PINNED.keyIdText + ', ' + VENDOR + '). Anyone can create a key, so a ' +
        'signature made with any other key does not show that ' + VENDOR + ' issued this document.');
    }
    const comment = new TextEncoder().encode(sig.comment);
    const signed = new Uint8Array(sig.signature.length + comment.length);
    signed.set(sig.signature);
    signed.set(comment, sig.signature.length);
    const genuine = await crypto.subtle.verify({ name: 'Ed25519' }, key, sig.global, signed).catch(() => false);
    if (!genuine) {
      return invalid('bad-signature', 'Not valid: the signature does not match',
        'The signature file was changed after it was signed (for example the customer, annex or ' +
        'date written in it), or it was not made by ' + VENDOR + (VENDOR.endsWith('.') ? '' : '.') +
        ' Ask ' + VENDOR + ' for the original files.');
    }

    const st = parseStatement(sig.comment);
    if (!st) {
      return invalid('not-dpa', 'Not valid: not the signature of an agreement',
        VENDOR + ' signed this, but its signed statement does not identify a document: ' + quoted(sig.comment) + '.');
    }
    const digest = toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', pdf)));
    if (digest !== st.sha256.toLowerCase()) {
      if (st.file && st.file !== pdfFile.name) {
        return invalid('other-document', 'Not valid: this is the signature of another document',
          'This signature was made for ' + quoted(st.file) + (st.customer ? ' (customer ' + st.customer + ')' : '') +
          ', but the PDF you chose, ' + quoted(pdfFile.name) + ', has different content. It may be the ' +
          'signature of another document: choose the .minisig file that came with this PDF.');
      }
      return invalid('altered', 'Not valid: the document was altered',
        'The content of ' + quoted(pdfFile.name) + ' differs from the document ' + VENDOR + ' signed. ' +
        'It was altered after signing, even if only by one byte, or it is a different version. ' +
        'Do not rely on this copy; ask ' + VENDOR + ' for the original.');
    }

    const facts = [
      ['Document', st.file && st.file !== pdfFile.name
        ? pdfFile.name + ' (signed as ' + st.file + ')' : pdfFile.name],
      ['Customer', st.customer],
      ['Annex version', st.annex],
      ['Annex fingerprint', st.annex_sha256 && grouped(st.annex_sha256), true],
      ['Issued', st.issued],
      ['Signed by', VENDOR],
      ['Signing key', PINNED.keyIdText, true],
      ['Document SHA-256', grouped(digest), true],
    ];
    return {
      valid: true, reason: 'valid', title: 'Valid: this is the agreement ' + VENDOR + ' signed',
      text: 'The signature was made with ' + VENDOR + '\u2019s key and the document is unchanged, ' +
        'byte for byte. Check that the customer and annex below are the ones you expect.',
      facts: facts.filter((f) => f[1]),
    };
  }

  const UNSUPPORTED = invalid('unsupported', 'Could not check: this browser is too old',
    'This browser cannot check Ed25519 signatures. Open this page in a current Chrome or Edge ' +
    '(version 137 or later), Firefox (129 or later) or Safari (17 or later). This says nothing ' +
    'about your files.');

  // ---- showing the verdict -------------------------------------------------------------------
  function node(tag, className, content) {
    const n = document.createElement(tag);
    if (className) n.className = className;
    if (typeof content === 'string') n.textContent = content;
    else if (content) n.append(...content);
    return n;
  }

  function show(result) {
    const v = el('verdict');
    if (result.valid === undefined) {
      delete v.dataset.valid;
      delete v.dataset.reason;
    } else {
      v.dataset.valid = String(result.valid);
      v.dataset.reason = result.reason;
    }
    const icon = result.valid === true ? '\u2713' : result.valid === false
      ? (result.reason === 'unreadable' || result.reason === 'unsupported' ? '!' : '\u2717') : '\u2026';
    const parts = [
      node('div', 'v-head', [node('span', 'v-icon', icon), node('p', 'v-title', result.title)]),
      node('p', 'v-text', result.text),
    ];
    if (result.facts && result.facts.length) {
      const list = node('dl', 'facts');
      for (const [label, value, mono] of result.facts) list.append(node('dt', '', label), node('dd', mono ? 'mono' : '', value));
      parts.push(list);
    }
    v.replaceChildren(...parts);
  }

  function waiting() {
    const missing = !chosen.pdf && !chosen.minisig ? 'the agreement (PDF) and its signature file (.minisig)'
      : !chosen.pdf ? 'the agreement (PDF)' : 'the signature file (.minisig)';
    return { title: 'Waiting for files', text: 'Choose ' + missing + ' to start the check.' };
  }

  async function update() {
    el('pdf-name').textContent = chosen.pdf ? chosen.pdf.name : 'No file chosen';
    el('minisig-name').textContent = chosen.minisig ? chosen.minisig.name : 'No file chosen';
    el('pdf-slot').classList.toggle('filled', !!chosen.pdf);
    el('minisig-slot').classList.toggle('filled', !!chosen.minisig);
    const mine = ++generation;
    const showIfCurrent = (result) => mine === generation && show(result);
    const { pdf, minisig } = chosen;
    if (!(await pinnedKey())) return showIfCurrent(UNSUPPORTED);
    if (!pdf || !minisig) return showIfCurrent(waiting());
    showIfCurrent({ title: 'Checking\u2026', text: 'Comparing the files with ' + VENDOR + '\u2019s signature.' });
    try {
      showIfCurrent(await check(pdf, minisig));
    } catch (e) {
      showIfCurrent(cannot('The check stopped with an error: ' + e + '.'));
    }
  }

  // ---- choosing and dropping files -----------------------------------------------------------
  for (const kind of ['pdf', 'minisig']) {
    el(kind).addEventListener('change', () => {
      chosen[kind] = el(kind).files[0] || null;
      update();
    });
  }

  // A dropped file is a signature if it is named *.minisig or reads like one; anything else is
  // taken as the agreement. Both files may be dropped together, anywhere on the page.
  async function take(list) {
    for (const file of Array.from(list)) {
      const head = await readBytes(file.slice(0, 32));
      const kind = /\.minisig$/i.test(file.name) || (head && startsWith(head, 'untrusted comment:')) ? 'minisig' : 'pdf';
      chosen[kind] = file;
      try {
        const transfer = new DataTransfer();
        transfer.items.add(file);
        el(kind).files = transfer.files; // keep the input in step where the browser allows it
      } catch (e) { /* the check uses `chosen`, so this is cosmetic */ }
    }
    update();
  }

  const zone = el('drop');
  window.addEventListener('dragover', (e) => {
    e.preventDefault();
    zone.classList.add('dragging');
  });
  window.addEventListener('dragleave', (e) => {
    if (!e.relatedTarget) zone.classList.remove('dragging');
  });
  window.addEventListener('drop', (e) => {
    e.preventDefault(); // otherwise the browser would open the dropped file instead
    zone.classList.remove('dragging');
    if (e.dataTransfer && e.dataTransfer.files.length) take(e.dataTransfer.files);
  });

  update();
})();
