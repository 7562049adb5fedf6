"""arXiv-style LaTeX (abstracts, titles, names) to readable Unicode, in one pass, without losing a word.

An abstract is not a LaTeX document: `%` is a percent sign, a macro the reader does not know stays as its
source (`\\ours`), and only `$…$`, `$$…$$`, `\\(…\\)` and `\\[…\\]` are maths. Known macros come from the tables
below (the common subset: accents, fonts, Greek, symbols, fractions, scripts); a macro not in them is looked
up once in pylatexenc's symbol table (argument-free macros only), and kept as source when neither knows it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache


def _names(text: str) -> list[str]:
    return text.split()


_GREEK = _names("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau "
                "upsilon phi chi psi omega")
SYMBOLS: dict[str, str] = {
    **{g: chr(0x3B1 + i + (i > 16)) for i, g in enumerate(_GREEK)},  # skips final sigma (U+03C2)
    **{g.capitalize(): chr(0x391 + i + (i > 16)) for i, g in enumerate(_GREEK)},
    "varepsilon": "ε", "vartheta": "ϑ", "varpi": "ϖ", "varrho": "ϱ", "varsigma": "ς", "varphi": "φ",
    "epsilon": "ϵ", "phi": "ϕ", "varkappa": "ϰ", "digamma": "ϝ",
    "le": "≤", "leq": "≤", "ge": "≥", "geq": "≥", "ne": "≠", "neq": "≠", "leqslant": "⩽", "geqslant": "⩾",
    "approx": "≈", "sim": "∼", "simeq": "≃", "cong": "≅", "equiv": "≡", "propto": "∝", "ll": "≪", "gg": "≫",
    "lesssim": "≲", "gtrsim": "≳", "lessapprox": "⪅", "gtrapprox": "⪆", "asymp": "≍", "doteq": "≐",
    "in": "∈", "notin": "∉", "ni": "∋", "subset": "⊂", "subseteq": "⊆", "supset": "⊃", "supseteq": "⊇",
    "cup": "∪", "cap": "∩", "setminus": "∖", "emptyset": "∅", "varnothing": "∅", "forall": "∀", "exists": "∃",
    "neg": "¬", "lnot": "¬", "land": "∧", "wedge": "∧", "lor": "∨", "vee": "∨", "oplus": "⊕", "otimes": "⊗",
    "odot": "⊙", "ominus": "⊖", "bigoplus": "⨁", "bigotimes": "⨂", "bigcup": "⋃", "bigcap": "⋂",
    "times": "×", "div": "÷", "cdot": "·", "cdots": "⋯", "ldots": "…", "dots": "…", "vdots": "⋮", "ddots": "⋱",
    "pm": "±", "mp": "∓", "ast": "∗", "star": "⋆", "circ": "∘", "bullet": "•", "infty": "∞", "partial": "∂",
    "nabla": "∇", "sum": "∑", "prod": "∏", "coprod": "∐", "int": "∫", "iint": "∬", "iiint": "∭", "oint": "∮",
    "to": "→", "rightarrow": "→", "leftarrow": "←", "gets": "←", "Rightarrow": "⇒", "Leftarrow": "⇐",
    "leftrightarrow": "↔", "Leftrightarrow": "⇔", "iff": "⟺", "implies": "⟹", "mapsto": "↦",
    "longrightarrow": "⟶", "longleftarrow": "⟵", "Longrightarrow": "⟹", "uparrow": "↑", "downarrow": "↓",
    "rightleftharpoons": "⇌", "hookrightarrow": "↪",
    "langle": "⟨", "rangle": "⟩", "lceil": "⌈", "rceil": "⌉", "lfloor": "⌊", "rfloor": "⌋",
    "lbrace": "{", "rbrace": "}", "lbrack": "[", "rbrack": "]", "backslash": "\\",
    "prime": "′", "ell": "ℓ", "hbar": "ℏ", "Re": "ℜ", "Im": "ℑ", "aleph": "ℵ", "wp": "℘", "perp": "⊥",
    "parallel": "∥", "mid": "|", "vert": "|", "Vert": "‖", "angle": "∠", "triangle": "△", "square": "□",
    "dagger": "†", "ddagger": "‡", "top": "⊤", "bot": "⊥", "vdash": "⊢", "models": "⊨", "checkmark": "✓",
    "coloneqq": "≔", "sharp": "♯", "flat": "♭", "natural": "♮", "lhd": "⊲", "rhd": "⊳", "unlhd": "⊴",
    "degree": "°", "textdegree": "°", "celsius": "℃", "micro": "µ",
    # text symbols and letters
    "i": "ı", "j": "ȷ", "o": "ø", "O": "Ø", "l": "ł", "L": "Ł", "ss": "ß", "ae": "æ", "AE": "Æ", "oe": "œ",
    "OE": "Œ", "aa": "å", "AA": "Å", "S": "§", "P": "¶", "dag": "†", "ddag": "‡", "copyright": "©",
    "textcopyright": "©", "pounds": "£", "euro": "€", "texteuro": "€", "textregistered": "®",
    "texttrademark": "™", "textasciitilde": "~", "textbackslash": "\\", "textbar": "|", "textless": "<",
    "textgreater": ">", "textendash": "–", "textemdash": "—", "textbullet": "•", "textperiodcentered": "·",
    "textquoteleft": "‘", "textquoteright": "’", "textquotedblleft": "“", "textquotedblright": "”",
    "ldquo": "“", "rdquo": "”", "lq": "‘", "rq": "’", "textellipsis": "…", "LaTeX": "LaTeX",
    "TeX": "TeX", "BibTeX": "BibTeX", "eg": "e.g.", "ie": "i.e.", "etal": "et al.", "vs": "vs.", "wrt": "w.r.t.",
    "textasciicircum": "^", "textunderscore": "_", "slash": "/",
    # spacing
    "quad": " ", "qquad": " ", "enspace": " ", "thinspace": " ", "space": " ", "newline": " ", "linebreak": " ",
    "par": " ", "break": " ", "cr": " ", "and": ", ",
    # function names
    **{f: f for f in _names("log ln lg exp sin cos tan cot sec csc arcsin arccos arctan sinh cosh tanh coth max min sup "
                      "inf lim limsup liminf det dim ker arg deg gcd lcm Pr hom mod bmod argmax argmin "
                            "Tr tr rank diag sgn")},
}
# Font switches, sizes, delimiter sizing and layout: the macro itself says nothing in plain text.
_DROP = frozenset(_names(
    "rm bf it em sl sf tt sc cal mit normalfont bfseries itshape mdseries scshape upshape rmfamily sffamily "
    "ttfamily tiny scriptsize footnotesize small normalsize large Large LARGE huge Huge displaystyle textstyle "
    "scriptstyle scriptscriptstyle left right big Big bigg Bigg bigl bigr Bigl Bigr biggl biggr Biggl Biggr middle "
    "nobreakdash noindent indent centering raggedright raggedleft smallskip medskip bigskip limits nolimits "
    "maketitle relax protect nonumber notag hfill vfill hline allowbreak nobreak xspace ignorespaces "
    "boldmath unboldmath mathstrut strut displaylimits"))
# Macros whose one argument is their text (fonts, boxes, emphasis).
_ONE_ARG = frozenset(_names(
    "emph textbf textit textrm textsf texttt textsc textup textnormal textmd textsl underline uline mathrm "
    "mathbf mathit mathsf mathtt mathcal mathscr mathfrak mathnormal boldsymbol bm pmb operatorname text textup "
    "mbox hbox fbox makebox framebox boxed overbrace underbrace mathop mathbin mathrel mathord "
    "ensuremath emphasize smash"))
_SKIP_ARG = frozenset(_names("label color hspace vspace pagecolor phantom hphantom vphantom bibliographystyle "
                             "bibliography pagestyle thispagestyle setcounter addtocounter"))
_CITE = frozenset(_names("cite citep citet citealp citeauthor citeyear nocite ref eqref autoref cref Cref pageref"))
_ACCENT = {"'": "\u0301", '"': "\u0308", "`": "\u0300", "^": "\u0302", "~": "\u0303", "=": "\u0304", ".": "\u0307",
           "u": "\u0306", "v": "\u030c", "H": "\u030b", "c": "\u0327", "k": "\u0328", "r": "\u030a",
           "d": "\u0323", "b": "\u0331", "t": "\u0361",
           "hat": "\u0302", "widehat": "\u0302", "tilde": "\u0303", "widetilde": "\u0303", "bar": "\u0304",
           "overline": "\u0305", "vec": "\u20d7", "dot": "\u0307", "ddot": "\u0308", "breve": "\u0306",
           "check": "\u030c", "acute": "\u0301", "grave": "\u0300", "mathring": "\u030a"}
_CONTROL = {"%": "%", "&": "&", "#": "#", "_": "_", "$": "$", "{": "{", "}": "}", ",": " ", ";": " ", ":": " ",
            ">": " ", " ": " ", "\n": " ", "\t": " ", "\\": " ", "!": "", "-": "", "/": "", "@": "", "(": "(",
            ")": ")", "[": "[", "]": "]", "|": "‖", "*": ""}
_DOUBLE = {"R": "ℝ", "N": "ℕ", "Z": "ℤ", "Q": "ℚ", "C": "ℂ", "P": "ℙ", "H": "ℍ", "E": "𝔼", "1": "𝟙"}
SUP = dict(zip("0123456789+-=()niabcdefghjklmoprstuvwxyzABDEGHIJKLMNOPRTUVW",
               "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿⁱᵃᵇᶜᵈᵉᶠᵍʰʲᵏˡᵐᵒᵖʳˢᵗᵘᵛʷˣʸᶻᴬᴮᴰᴱᴳᴴᴵᴶᴷᴸᴹᴺᴼᴾᴿᵀᵁⱽᵂ", strict=True))
SUB = dict(zip("0123456789+-=()aehijklmnoprstuvx", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ", strict=True))
SUP.update({".": ".", "′": "′", "∗": "*", "*": "*", "†": "†", "⊤": "ᵀ", "∘": "°", " ": ""})
SUB.update({".": ".", " ": ""})

# `\name` (+ a star), `\` + one character, the markers, or a run of plain text.
_TOKEN = re.compile(r"\\([A-Za-z]+)\*?|\\(.?)|([{}^_~])|([^\\{}^_~]+)", re.S)
# The maths: `$$…$$`, `\(…\)`, `\[…\]`, and `$…$` whose closing `$` follows no space (so `$5 and $10` are prices).
# Every branch starts with a literal `$` or `\` (the lookbehind comes after it), so `re` skips to those characters
# instead of trying each branch at every position: three times faster on real abstracts.
MATH = re.compile(r"\$\$(.+?)\$\$|\\\((.+?)\\\)|\\\[(.+?)\\\]|\$(?<![\\$]\$)(?!\$)([^$]+?)(?<![\\\s])\$", re.S)
_PRICE = re.compile(r"\d[\d.,]*\s+[A-Za-z]")
# Hugging Face's pipeline drops the backslash of a few macros and leaves `{sim}`.
_BARE = re.compile(r"\{(sim|approx|times|leq|geq|pm|rightarrow|to|cdot|infty|le|ge|neq)\}")
_MAX_DEPTH = 60


def script(table: dict[str, str], mark: str, body: str) -> str:
    """`2` → `²` when every character has a Unicode script form, else `^2` / `^(n+1)`."""
    body = body.strip()
    if body and all(ch in table for ch in body):
        return "".join(table[ch] for ch in body)
    if not body:
        return ""
    return f"{mark}{body}" if len(body) == 1 or body.isalnum() else f"{mark}({body})"


def _accent(mark: str, body: str) -> str:
    if not body:
        return ""
    base = {"ı": "i", "ȷ": "j"}.get(body[0], body[0])
    return unicodedata.normalize("NFC", base + mark) + body[1:]


def _wrap(body: str) -> str:
    return body if len(body) <= 1 or body.isalnum() else f"({body})"


@lru_cache(maxsize=1)
def _pylatexenc_symbols() -> dict[str, str]:
    """Argument-free macros pylatexenc renders as a fixed string (the long tail of symbols)."""
    try:
        from pylatexenc import latex2text as l2t
        from pylatexenc import latexwalker as lw
    except ImportError:  # pragma: no cover - pylatexenc is a dependency; without it unknown macros stay source
        return {}
    walker = lw.get_default_latex_context_db()
    out: dict[str, str] = {}
    for spec in l2t.get_default_latex_context_db().iter_macro_specs(["latex-base", "advanced-symbols",
                                                                       "nonascii-specials"]):
        repl, name = spec.simplify_repl, spec.macroname
        argspec = getattr(getattr(walker.get_macro_spec(name), "args_parser", None), "argspec", "")
        if isinstance(repl, str) and "%" not in repl and not argspec and name not in ("today",) and repl.strip():
            out[name] = repl
    return out


class _Reader:
    """Tokens of one text segment, read left to right; arguments are read by the macros that take them."""

    __slots__ = ("toks", "pos", "math")

    def __init__(self, text: str, math: bool) -> None:
        self.toks: list[tuple[str, str, str, str]] = _TOKEN.findall(text)
        self.pos = 0
        self.math = math

    def render(self, depth: int = 0, in_group: bool = False) -> str:
        out: list[str] = []
        toks = self.toks
        while self.pos < len(toks):
            name, sym, mark, text = toks[self.pos]
            self.pos += 1
            if text:
                out.append(text)
            elif name:
                out.append(self.macro(name, depth))
            elif mark == "{":
                if depth < _MAX_DEPTH:
                    out.append(self.render(depth + 1, True))
            elif mark == "}":
                if in_group:
                    break  # a stray `}` outside any group is dropped
            elif mark == "~":
                out.append(" ")
            elif mark:  # ^ or _
                out.append(self.scripted(mark, out, depth))
            else:
                out.append(self.control(sym, depth))
        return "".join(out)

    def arg(self, depth: int, split_words: bool = False, keep_space: bool = False) -> str:
        """One macro argument: a `{group}`, a macro, or the next character (spaces before it skipped).

        In running text, macros other than accents, fonts and scripts (`\\"u`, `\\emph x`) take only a `{group}`,
        never a piece of the next word (`\\cite word` keeps `word`); `keep_space` keeps a space before it."""
        toks = self.toks
        if not (split_words or self.math):
            if self.pos < len(toks) and toks[self.pos][3] and not toks[self.pos][3].strip():
                self.pos += 1  # `\\href {u}{t}`
            if self.pos >= len(toks) or toks[self.pos][2] != "{":
                return ""
        space = ""
        while self.pos < len(toks):
            name, sym, mark, text = toks[self.pos]
            if text:
                stripped = text.lstrip()
                if keep_space and len(stripped) < len(text):
                    space = " "
                if not stripped:
                    self.pos += 1
                    continue
                if len(stripped) > 1:
                    toks[self.pos] = ("", "", "", stripped[1:])
                else:
                    self.pos += 1
                return space + stripped[0]
            self.pos += 1
            if mark == "{":
                return self.render(depth + 1, True) if depth < _MAX_DEPTH else ""
            if name:  # `\\frac\\frac…`: an argument that is a macro counts as one level deeper
                return self.macro(name, depth + 1) if depth < _MAX_DEPTH else "\\" + name
            if sym:
                return self.control(sym, depth + 1) if depth < _MAX_DEPTH else ""
            if mark == "}":
                self.pos -= 1  # the group this macro sits in ends: no argument
            return ""
        return ""

    def optional(self) -> None:
        """Skip an optional `[…]` argument (e.g. `\\sqrt[3]{x}` keeps only the radicand)."""
        if self.pos < len(self.toks):
            text = self.toks[self.pos][3]
            if text.startswith("[") and "]" in text:
                rest = text[text.index("]") + 1:]
                if rest:
                    self.toks[self.pos] = ("", "", "", rest)
                else:
                    self.pos += 1

    def scripted(self, mark: str, out: list[str], depth: int) -> str:
        toks = self.toks
        nxt = toks[self.pos] if self.pos < len(toks) else ("", "", "", "")
        if not self.math and nxt[2] != "{":
            # In running text only `x^{…}`, `x_{…}`, `R^2` and `H_2` are scripts; `snake_case` stays as it is.
            prev = out[-1][-1:] if out and out[-1] else ""
            head, after = nxt[3][:1], nxt[3][1:2]
            if mark == "^":
                is_script = (prev.isalnum() or prev in ")]") and head.isalnum() and not after.isalnum()
            else:
                is_script = prev.isalpha() and head.isdigit() and not after.isalnum()
            if not is_script:
                return mark
        body = self.arg(depth, split_words=True)
        return script(SUP if mark == "^" else SUB, mark, body)

    def control(self, sym: str, depth: int) -> str:
        if sym in _ACCENT:
            return _accent(_ACCENT[sym], self.arg(depth, split_words=True))
        found = _CONTROL.get(sym)
        if found is not None:
            return found
        return "\\" + sym if sym.strip() else " "  # `\1.49M`: not LaTeX we know, so it stays as written

    def macro(self, name: str, depth: int) -> str:
        found = SYMBOLS.get(name)
        if found is not None:
            return found
        if name in _DROP:  # `{\\bf r}` is `r`: the space that ends the switch goes with it
            if self.pos < len(self.toks) and self.toks[self.pos][3]:
                rest = self.toks[self.pos][3].lstrip()
                if rest:
                    self.toks[self.pos] = ("", "", "", rest)
                else:
                    self.pos += 1
            return ""
        if name in _ONE_ARG:
            return self.arg(depth, split_words=True, keep_space=True)
        handler = _HANDLERS.get(name)
        if handler is not None:
            return handler(self, depth)
        if name in _ACCENT:
            return _accent(_ACCENT[name], self.arg(depth, split_words=True))
        if name in _SKIP_ARG:
            self.arg(depth)
            return ""
        if name in _CITE:
            self.optional()
            key = self.arg(depth)
            return f"[{key}]" if key else ""
        found = _pylatexenc_symbols().get(name)
        if found is not None:
            return found
        # Unknown (often the author's own, like `\ours`): keep the source; `\ours{}` loses only its empty group.
        toks = self.toks
        if self.pos + 1 < len(toks) and toks[self.pos][2] == "{" and toks[self.pos + 1][2] == "}":
            self.pos += 2
            nxt = toks[self.pos][3][:1] if self.pos < len(toks) else ""
            if nxt.isalnum() or not nxt:
                return "\\" + name + " "  # `\ours{}A` must not read as `\oursA`
        return "\\" + name


def _frac(r: _Reader, depth: int) -> str:
    num, den = r.arg(depth), r.arg(depth)
    return f"{_wrap(num)}/{_wrap(den)}" if num or den else ""


def _sqrt(r: _Reader, depth: int) -> str:
    r.optional()
    body = r.arg(depth)
    return "√" + _wrap(body) if body else "√"


def _mathbb(r: _Reader, depth: int) -> str:
    return "".join(_DOUBLE.get(ch, ch) for ch in r.arg(depth))


def _href(r: _Reader, depth: int) -> str:
    url, text = r.arg(depth), r.arg(depth)
    return text if text == url or not url else f"{text} ({url})" if text else url


def _footnote(r: _Reader, depth: int) -> str:
    return f" ({r.arg(depth)})"


def _two_keep_second(r: _Reader, depth: int) -> str:
    r.arg(depth)
    return r.arg(depth)


def _begin(r: _Reader, depth: int) -> str:
    r.arg(depth)  # the environment's name; its body is read as text
    return " "


def _textsuperscript(r: _Reader, depth: int) -> str:
    return script(SUP, "^", r.arg(depth))


def _textsubscript(r: _Reader, depth: int) -> str:
    return script(SUB, "_", r.arg(depth))


def _binom(r: _Reader, depth: int) -> str:
    n, k = r.arg(depth), r.arg(depth)
    return f"C({n}, {k})" if n or k else ""


def _not(r: _Reader, depth: int) -> str:
    body = r.arg(depth)
    return unicodedata.normalize("NFC", body + "\u0338") if body else ""


_HANDLERS: dict[str, Callable[[_Reader, int], str]] = {
    "frac": _frac, "dfrac": _frac, "tfrac": _frac, "cfrac": _frac, "sqrt": _sqrt, "mathbb": _mathbb,
    "mathds": _mathbb, "href": _href, "url": lambda r, d: r.arg(d), "footnote": _footnote,
    "textcolor": _two_keep_second, "colorbox": _two_keep_second, "stackrel": _two_keep_second,
    "overset": _two_keep_second, "underset": _two_keep_second, "begin": _begin, "end": _begin,
    "item": lambda r, d: " • ", "textsuperscript": _textsuperscript, "textsubscript": _textsubscript,
    "binom": _binom, "tbinom": _binom, "dbinom": _binom, "not": _not,
}


def to_text(source: str) -> str:
    """Render `source` (not yet whitespace-collapsed); the caller cleans and caches."""
    if "{" in source:
        source = _BARE.sub(lambda m: "\\" + m.group(1) + " ", source)
    parts: list[str] = []
    pos = 0
    for m in MATH.finditer(source):
        body = next(g for g in m.groups() if g is not None)
        if m.group(4) is not None and _PRICE.match(body):
            continue  # `$5 and $10`: prices, not maths
        parts.append(_Reader(source[pos:m.start()], False).render())
        parts.append(_Reader(body, True).render())
        pos = m.end()
    parts.append(_Reader(source[pos:], False).render())
    return "".join(parts)
