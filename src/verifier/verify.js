// The checker behind verify.html: is this PDF the one the vendor signed, says its .minisig?
//
// Trust comes only from the key pinned in this page (the JSON block "dpa-pinned"). The verdict is
// the one `dpa verify` gives for the same PDF and .minisig: the format rules come from dpa's own
// code (PINNED.rules), and the steps below follow src/sign/minisign.rs and src/sign/verify.rs one
// by one; tests/verdict_parity.rs runs one corpus through both. No network request is made, and no
// key is ever taken from the files.
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
  const utf8 = (text) => new TextEncoder().encode(text);

  // Rust's char::is_whitespace (Unicode White_Space), which `str::trim` in dpa uses. JavaScript's
  // own trim differs (it trims U+FEFF and keeps U+0085), so the parsing below never uses it.
  const isRustSpace = (c) => /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]$/.test(c);
  // Rust's char::is_control: the C0 and C1 control characters and DEL.
  const isControl = (c) => /^[\u0000-\u001f\u007f-\u009f]$/.test(c);
  function rustTrim(text) {
    let start = 0;
    let end = text.length;
    while (start < end && isRustSpace(text[start])) start++;
    while (end > start && isRustSpace(text[end - 1])) end--;
    return text.slice(start, end);
  }

  // Standard base64 as dpa decodes it: canonical padding, no stray bits, nothing else.
  const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
  const BASE64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  function fromBase64(text) {
    if (!BASE64.test(text)) return null;
    const pad = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
    if (pad) {
      const last = BASE64_ALPHABET.indexOf(text[text.length - pad - 1]);
      if (last & (pad === 2 ? 0x0f : 0x03)) return null; // bits past the data must be zero
    }
    return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  }

  async function readBytes(file) {
    try {
      return new Uint8Array(await file.arrayBuffer());
    } catch (e) {
      return null;
    }
  }

  // ---- BLAKE2b-512 (RFC 7693) -------------------------------------------------------------
  // minisign's file signature covers BLAKE2b-512 of the file, which WebCrypto does not offer;
  // this is the RFC's algorithm over 64-bit words kept as (low, high) pairs of 32-bit numbers.
  const blake2b512 = (() => {
    const IV = [0xf3bcc908, 0x6a09e667, 0x84caa73b, 0xbb67ae85, 0xfe94f82b, 0x3c6ef372,
      0x5f1d36f1, 0xa54ff53a, 0xade682d1, 0x510e527f, 0x2b3e6c1f, 0x9b05688c, 0xfb41bd6b,
      0x1f83d9ab, 0x137e2179, 0x5be0cd19];
    const SIGMA = [
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
      [14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3],
      [11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4],
      [7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8],
      [9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13],
      [2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9],
      [12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11],
      [13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10],
      [6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5],
      [10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0],
    ];
    const v = new Uint32Array(32); // the working vector: word i is v[2i] (low), v[2i+1] (high)
    const m = new Uint32Array(32); // the message block, same layout

    function add(a, lo, hi) { // v[a] += (hi:lo)
      const low = v[a] + lo;
      v[a + 1] = v[a + 1] + hi + (low > 0xffffffff ? 1 : 0);
      v[a] = low;
    }
    function xorRotate(d, a, n) { // v[d] = (v[d] ^ v[a]) rotated right by n (16, 24, 32 or 63)
      const lo = v[d] ^ v[a];
      const hi = v[d + 1] ^ v[a + 1];
      if (n === 32) {
        v[d] = hi;
        v[d + 1] = lo;
      } else if (n === 63) {
        v[d] = (lo << 1) | (hi >>> 31);
        v[d + 1] = (hi << 1) | (lo >>> 31);
      } else {
        v[d] = (lo >>> n) | (hi << (32 - n));
        v[d + 1] = (hi >>> n) | (lo << (32 - n));
      }
    }
    function mix(a, b, c, d, x, y) { // the G function on words a, b, c, d with message words x, y
      [a, b, c, d, x, y] = [a * 2, b * 2, c * 2, d * 2, x * 2, y * 2];
      add(a, v[b], v[b + 1]); add(a, m[x], m[x + 1]); xorRotate(d, a, 32);
      add(c, v[d], v[d + 1]); xorRotate(b, c, 24);
      add(a, v[b], v[b + 1]); add(a, m[y], m[y + 1]); xorRotate(d, a, 16);
      add(c, v[d], v[d + 1]); xorRotate(b, c, 63);
    }
    function compress(h, block, counter, last) {
      for (let i = 0; i < 32; i++) {
        m[i] = block[i * 4] | (block[i * 4 + 1] << 8) | (block[i * 4 + 2] << 16) | (block[i * 4 + 3] << 24);
      }
      for (let i = 0; i < 16; i++) {
        v[i] = h[i];
        v[i + 16] = IV[i];
      }
      v[24] ^= counter % 0x100000000;
      v[25] ^= Math.floor(counter / 0x100000000);
      if (last) {
        v[28] = ~v[28];
        v[29] = ~v[29];
      }
      for (let round = 0; round < 12; round++) {
        const s = SIGMA[round % 10];
        mix(0, 4, 8, 12, s[0], s[1]);
        mix(1, 5, 9, 13, s[2], s[3]);
        mix(2, 6, 10, 14, s[4], s[5]);
        mix(3, 7, 11, 15, s[6], s[7]);
        mix(0, 5, 10, 15, s[8], s[9]);
        mix(1, 6, 11, 12, s[10], s[11]);
        mix(2, 7, 8, 13, s[12], s[13]);
        mix(3, 4, 9, 14, s[14], s[15]);
      }
      for (let i = 0; i < 16; i++) h[i] ^= v[i] ^ v[i + 16];
    }
    return (data) => {
      const h = new Uint32Array(IV);
      h[0] ^= 0x01010040; // digest length 64, no key, fanout 1, depth 1
      let offset = 0;
      // Every block but the last is compressed as it comes; the last one is flagged.
      while (data.length - offset > 128) {
        compress(h, data.subarray(offset, offset + 128), offset + 128, false);
        offset += 128;
      }
      const last = new Uint8Array(128);
      last.set(data.subarray(offset));
      compress(h, last, data.length, true);
      const out = new Uint8Array(64);
      for (let i = 0; i < 16; i++) {
        for (let j = 0; j < 4; j++) out[i * 4 + j] = (h[i] >>> (8 * j)) & 0xff;
      }
      return out;
    };
  })();

  // ---- the pinned key ------------------------------------------------------------------------
  const RULES = PINNED.rules;
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

  // Ed25519 as dpa's verify_strict: WebCrypto's check, and no R of small order (which
  // WebCrypto accepts when a signer chose R = identity on purpose).
  const SMALL_ORDER = RULES.smallOrderPoints.map(fromHex);
  async function verifyStrict(key, signature, message) {
    const r = signature.slice(0, 32);
    r[31] &= 0x7f;
    if (SMALL_ORDER.some((point) => sameBytes(point, r))) return false;
    return crypto.subtle.verify({ name: 'Ed25519' }, key, signature, message).catch(() => false);
  }

  // ---- the .minisig file, as sign/minisign.rs SignatureFile::parse reads it ---------------------
  // "untrusted comment: ...", base64("ED" || key id[8] || signature[64]),
  // "trusted comment: TEXT", base64(global signature[64] over signature || TEXT).
  // Returns { sig } or { problem } (words for a person).
  function parseMinisig(bytes) {
    const problem = (text) => ({ problem: text });
    if (bytes.length > RULES.maxSignatureFile) return problem('it is far too large to be a signature file');
    let text;
    try {
      // A byte order mark is kept, so that, as in dpa, line 1 then does not start as it must.
      text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
    } catch (e) {
      return problem('it is not text');
    }
    if (rustTrim(text) === '') return problem('it is empty');
    const lines = text.split('\n').map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
    while (lines.length && rustTrim(lines[lines.length - 1]) === '') lines.pop();
    if (lines.length < 4) return problem('it is cut short (fewer than 4 lines)');
    if (lines.length > 4) return problem('it has more than 4 lines');
    const [untrusted, blobLine, trusted, globalLine] = lines;
    if (!untrusted.startsWith(RULES.untrustedPrefix)) {
      return problem('line 1 does not start with \u201c' + RULES.untrustedPrefix + '\u201d');
    }
    const blob = fromBase64(rustTrim(blobLine));
    const badLine = (n) => problem('line ' + n + ' is not a base64 signature of the right length');
    if (!blob || blob.length < 2) return badLine(2);
    const algorithm = String.fromCharCode(blob[0], blob[1]);
    if (algorithm === RULES.legacyAlgorithm) {
      return problem('it uses the legacy minisign algorithm \u201c' + algorithm + '\u201d, which dpa does not accept');
    }
    if (algorithm !== RULES.algorithm) return problem('its signature algorithm is unknown');
    if (blob.length !== 74) return badLine(2);
    if (!trusted.startsWith(RULES.trustedPrefix)) {
      return problem('line 3 does not start with \u201c' + RULES.trustedPrefix + '\u201d');
    }
    const global = fromBase64(rustTrim(globalLine));
    if (!global || global.length !== 64) return badLine(4);
    return {
      sig: {
        keyId: blob.slice(2, 10),
        signature: blob.slice(10),
        comment: trusted.slice(RULES.trustedPrefix.length),
        global,
      },
    };
  }

  // ---- the trusted comment, as sign/comment.rs TrustedComment::parse reads it -------------------
  // "dpa/1 file=X.pdf sha256=<hex> annex=<version> annex_sha256=<hex> customer=<id>
  // issued=<YYYY-MM-DD> key=<KEYID>": these fields in this order, single spaces, nothing else.
  function isDate(text) {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
    if (!m) return false;
    const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
    const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
    const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
    return days !== undefined && day >= 1 && day <= days;
  }
  function isFileName(name) {
    const size = utf8(name).length;
    if (size < 1 || size > 255 || name === '.' || name === '..') return false;
    return !Array.from(name).some((c) => isRustSpace(c) || isControl(c) || c === '/' || c === '\\');
  }
  const VALID = {
    file: isFileName,
    sha256: (v) => /^[0-9a-f]{64}$/.test(v),
    annex: (v) => /^[A-Za-z0-9._-]{1,128}$/.test(v),
    annex_sha256: (v) => /^[0-9a-f]{64}$/.test(v),
    customer: (v) => /^[a-z0-9-]{1,128}$/.test(v),
    issued: isDate,
    key: (v) => /^(?:0|[1-9A-F][0-9A-F]{0,15})$/.test(v),
  };
  function parseStatement(comment) {
    if (utf8(comment).length > RULES.maxComment) return null;
    const parts = comment.split(' ');
    if (parts.length !== RULES.commentFields.length + 1 || parts[0] !== RULES.commentPrefix) return null;
    const fields = {};
    for (const [i, name] of RULES.commentFields.entries()) {
      const part = parts[i + 1];
      if (!part.startsWith(name + '=')) return null;
      const value = part.slice(name.length + 1);
      if (!VALID[name] || !VALID[name](value)) return null;
      fields[name] = value;
    }
    return fields;
  }

  // ---- revisions ------------------------------------------------------------------------------
  // Where the file's revisions end, as src/sign/pdfsig.rs `revisions` finds them: after each
  // "%%EOF" (and an optional CR, then LF) that a `startxref N` pointing at a cross-reference
  // section (`xref`, or an object `M G obj`) precedes. A customer who signs in place appends a
  // revision, so the vendor's document is then one of the earlier ones.
  function revisionEnds(bytes) {
    const isWs = (b) => b === 0x20 || b === 0x09 || b === 0x0d || b === 0x0a || b === 0x0c || b === 0x00;
    const isDigit = (b) => b >= 0x30 && b <= 0x39;
    const at = (pos, ascii) => pos >= 0 && ascii.split('').every((c, k) => bytes[pos + k] === c.charCodeAt(0));
    const find = (ascii, from) => {
      for (let p = bytes.indexOf(ascii.charCodeAt(0), from); p >= 0; p = bytes.indexOf(ascii.charCodeAt(0), p + 1)) {
        if (at(p, ascii)) return p;
      }
      return -1;
    };
    const startxrefBefore = (eof) => {
      let i = eof;
      while (i > 0 && isWs(bytes[i - 1])) i--;
      const digitsEnd = i;
      while (i > 0 && isDigit(bytes[i - 1])) i--;
      if (i === digitsEnd || digitsEnd - i > 15) return false;
      const offset = Number(String.fromCharCode(...bytes.subarray(i, digitsEnd)));
      while (i > 0 && isWs(bytes[i - 1])) i--;
      if (i < 9 || !at(i - 9, 'startxref') || offset >= i - 9) return false;
      if (at(offset, 'xref')) return true;
      let j = offset;
      const run = (test) => {
        const start = j;
        while (j < bytes.length && test(bytes[j])) j++;
        return j > start;
      };
      return run(isDigit) && run(isWs) && run(isDigit) && run(isWs) && at(j, 'obj');
    };
    const ends = [];
    for (let pos = find('%%EOF', 0); pos >= 0; pos = find('%%EOF', pos + 5)) {
      if (!startxrefBefore(pos)) continue;
      let end = pos + 5;
      if (bytes[end] === 0x0d) end++;
      if (bytes[end] === 0x0a) end++;
      ends.push(end);
    }
    return ends;
  }

  // The length of the earlier revision that is the document the statement names (its SHA-256
  // is `signed`, and the vendor's signature verifies over it), as src/sign/document.rs
  // `earlier_revision_with_sha256` looks for it, latest first; 0 when there is none.
  // WebCrypto hashes whole buffers only, so each candidate is hashed from the start: only
  // the latest MAX_REVISIONS are tried (a DPA signed in place has two or three), so that a
  // file of thousands of revisions cannot keep the page busy for hours.
  const MAX_REVISIONS = 16;
  async function signedRevision(key, sig, pdf, signed) {
    const earlier = revisionEnds(pdf).filter((end) => end < pdf.length);
    for (const end of earlier.reverse().slice(0, MAX_REVISIONS)) {
      const prefix = pdf.subarray(0, end);
      const hex = toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', prefix)));
      if (hex !== signed) continue;
      return (await verifyStrict(key, sig.signature, blake2b512(prefix))) ? end : 0;
    }
    return 0;
  }

  // ---- the check, step by step as sign/verify.rs check_minisig ----------------------------------
  const invalid = (reason, title, text, facts) => ({ valid: false, reason, title, text, facts });
  const cannot = (text) => invalid('unreadable', 'Could not check: a file is unreadable', text);

  async function check(pdfFile, sigFile) {
    const key = await pinnedKey();
    if (!key) return UNSUPPORTED;
    const [pdf, sigBytes] = await Promise.all([readBytes(pdfFile), readBytes(sigFile)]);
    if (!pdf) return cannot('The browser could not read the PDF ' + quoted(pdfFile.name) + '.');
    if (!sigBytes) return cannot('The browser could not read the signature file ' + quoted(sigFile.name) + '.');
    // Advice for files chosen the wrong way round; the verdict itself stays dpa's.
    const swapped = startsWith(pdf, RULES.untrustedPrefix.trim())
      ? ' Note: ' + quoted(pdfFile.name) + ' is a signature file, not the agreement; in box 1, choose the PDF.'
      : '';

    const parsed = parseMinisig(sigBytes);
    if (!parsed.sig) {
      const advice = startsWith(sigBytes, '%PDF')
        ? quoted(sigFile.name) + ' is a PDF, not a signature. In box 2, choose the file ending in ' +
          '.minisig that came with the agreement.'
        : 'Ask ' + VENDOR + ' to send the signature file again.';
      return invalid('damaged-signature', 'Not valid: the signature file is damaged',
        quoted(sigFile.name) + ' is not a usable minisign signature: ' + parsed.problem + '. ' + advice + swapped);
    }
    const sig = parsed.sig;

    if (!sameBytes(sig.keyId, fromHex(PINNED.keyId))) {
      return invalid('different-key', 'Not valid: signed by a different key',
        'This signature was made with the key ' + keyIdText(sig.keyId) + ', not with the key this ' +
        'page trusts (' + PINNED.keyIdText + ', ' + VENDOR + '). Anyone can create a key, so a ' +
        'signature made with any other key does not show that ' + VENDOR + ' issued this document.' + swapped);
    }
    const comment = utf8(sig.comment);
    const signed = new Uint8Array(sig.signature.length + comment.length);
    signed.set(sig.signature);
    signed.set(comment, sig.signature.length);
    const [fileOk, globalOk] = await Promise.all([
      verifyStrict(key, sig.signature, blake2b512(pdf)),
      verifyStrict(key, sig.global, signed),
    ]);
    const vendorEnd = VENDOR + (VENDOR.endsWith('.') ? '' : '.');
    if (!globalOk) {
      // The global signature covers the file signature, so if that one holds, only the
      // comment can have changed.
      return fileOk
        ? invalid('edited-comment', 'Not valid: the signature file was edited',
          'The statement in the signature file (customer, annex or date) was changed after ' +
          VENDOR + ' signed it. Ask ' + VENDOR + ' for the original files.')
        : invalid('bad-signature', 'Not valid: the signature does not match',
          'The signature file is damaged, or it was not made by ' + vendorEnd +
          ' Ask ' + VENDOR + ' for the original files.' + swapped);
    }

    const digest = toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', pdf)));
    const altered = () => invalid('altered', 'Not valid: the document was altered',
      'The content of ' + quoted(pdfFile.name) + ' differs from the document ' + VENDOR + ' signed. ' +
      'It was altered after signing, even if only by one byte, or it is a different version. ' +
      'Do not rely on this copy; ask ' + VENDOR + ' for the original.' + swapped);
    const st = parseStatement(sig.comment);
    if (!st) {
      return fileOk
        ? invalid('not-dpa', 'Not valid: not the signature of an agreement',
          VENDOR + ' signed this, but its signed statement is not one that identifies an agreement: ' +
          quoted(sig.comment) + '.')
        : altered();
    }
    const ownKey = PINNED.keyIdText.replace(/^0+(?=.)/, '');
    if (!fileOk) {
      if (st.sha256 === digest) {
        return invalid('bad-signature', 'Not valid: the signature does not match',
          'The signature over the document does not verify, although the statement names this ' +
          'document: the signature file is inconsistent and proves nothing. Ask ' + VENDOR +
          ' for the original files.');
      }
      // Signed in place by the customer? Then the document the vendor signed is an earlier
      // revision of this file, which `dpa verify` examines further; this page does not.
      const end = st.key === ownKey ? await signedRevision(key, sig, pdf, st.sha256) : 0;
      if (end) {
        const added = pdf.length - end;
        return invalid('appended', 'Signed by ' + VENDOR + ', then added to',
          'The first ' + end.toLocaleString('en') + ' bytes of ' + quoted(pdfFile.name) +
          ' are exactly the agreement ' + VENDOR + ' signed. ' + added.toLocaleString('en') +
          ' bytes were added after them, usually when the customer signs the agreement in place. ' +
          'This page cannot tell what an addition changes: open the file in a PDF reader, whose ' +
          'signature panel shows both signatures and whether anything but signing changed, or ' +
          'check it with dpa verify.',
          facts(st, pdfFile.name, ['SHA-256 of the signed part', grouped(st.sha256), true]));
      }
      if (st.file !== pdfFile.name) {
        return invalid('other-document', 'Not valid: this is the signature of another document',
          'This signature was made for ' + quoted(st.file) + ' (customer ' + st.customer + '), but ' +
          'the PDF you chose, ' + quoted(pdfFile.name) + ', has different content. Choose the ' +
          '.minisig file that came with this PDF.' + swapped);
      }
      return altered();
    }
    if (st.sha256 !== digest || st.key !== ownKey) {
      return invalid('comment-mismatch', 'Not valid: the signed statement contradicts the document',
        'The signature is genuine, but the statement ' + VENDOR + ' signed names ' +
        (st.sha256 !== digest ? 'a document with another SHA-256 (' + grouped(st.sha256) + ')'
          : 'the key ' + st.key + ' instead of ' + ownKey) + '. Ask ' + VENDOR + ' for the original files.');
    }

    return {
      valid: true, reason: 'valid', title: 'Valid: this is the agreement ' + VENDOR + ' signed',
      text: 'The signature was made with ' + VENDOR + '\u2019s key and the document is unchanged, ' +
        'byte for byte. Check that the customer and annex below are the ones you expect.',
      facts: facts(st, pdfFile.name, ['Document SHA-256', grouped(digest), true]),
    };
  }

  // What the signed statement says, for a person to compare with what they expect, and the
  // hash the signature covers.
  function facts(st, name, hash) {
    return [
      ['Document', st.file !== name ? name + ' (signed as ' + st.file + ')' : name],
      ['Customer', st.customer],
      ['Annex version', st.annex],
      ['Annex fingerprint', grouped(st.annex_sha256), true],
      ['Issued', st.issued],
      ['Signed by', VENDOR],
      ['Signing key', PINNED.keyIdText, true],
      hash,
    ];
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
      ? (['unreadable', 'unsupported', 'appended'].includes(result.reason) ? '!' : '\u2717') : '\u2026';
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
