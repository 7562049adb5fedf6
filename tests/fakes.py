"""Stand-ins shared by tests (unit tests only: end-to-end tests use the real model)."""

from __future__ import annotations

XSS_TITLE = 'A <script>alert("pwned")</script> title & <b>friends</b>'


class HashingEmbedder:
    """A fast stand-in for unit tests only: hashed bag of stems, so shared words mean nearby vectors."""

    name = "test-hashing"
    dim = 64

    def embed(self, texts, batch_size=32):
        import hashlib

        import numpy as np

        from paperscope.text import words

        out = np.zeros((len(texts), self.dim), np.float32)
        for i, text in enumerate(texts):
            for w in words(text):
                h = int(hashlib.md5(w[:5].encode()).hexdigest(), 16)
                out[i, h % self.dim] += 1.0 if (h >> 8) % 2 else -1.0
            norm = np.linalg.norm(out[i])
            out[i] = out[i] / norm if norm else out[i]
        return out

