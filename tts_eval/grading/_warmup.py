"""Typical answers parsed by a zygote started ahead of need (``grading.warm_up()``).

The ANTLR parser behind latex2sympy2_extended builds its prediction tables (DFA) lazily:
the first parse of each construct costs milliseconds, later ones microseconds. Parsing this
corpus once in the zygote (see worker.py) means every worker forked from it starts with warm
tables. It costs about 2.5 s, so only a zygote started while something else takes longer
(tts-vllm's engine load) parses it; one started because a comparison is needed now does not
(on a 16,000-response re-grade: 3.0 s without it, 5.2 s with it; benchmarks/grading.py).
"""

from __future__ import annotations

ANSWERS: tuple[str, ...] = (
    # numbers
    "0", "7", "-12", "3.14", "0.25", "1000000", "12.5", "-0.75", "2.5\\times10^{3}",
    # fractions, roots, pi, e, i
    "\\frac{1}{2}", "-\\frac{3}{4}", "\\frac{14}{3}", "2\\frac{5}{8}", "\\frac{\\sqrt{3}}{2}",
    "3\\sqrt{13}", "\\sqrt{117}", "2\\sqrt[3]{4}", "\\frac{1}{\\sqrt{3}}", "\\frac{\\pi}{2}",
    "\\frac{9\\pi}{4}", "4\\pi-2", "e^{2}", "\\ln(e^3)", "1+2i", "i(2-i)", "\\frac{1+i}{2}",
    "\\sqrt{2}+\\sqrt{5}", "\\frac{5\\sqrt{42}}{27}", "10\\sqrt{10.5}", "6+9i",
    # powers, factorials, binomials, logs, trig
    "2^{10}", "3^{2005}", "x^{2/3}", "5!", "\\binom{10}{3}", "\\log_2{8}", "\\log(100)",
    "\\sin(x)", "\\cos^2\\theta", "\\tan 30", "\\sec x", "\\arcsin(\\frac{1}{2})",
    "\\sin 20-\\sin 40", "\\cos(\\frac{2\\pi}{15})\\cos(\\frac{4\\pi}{15})",
    "\\lfloor x\\rfloor", "\\lceil\\sqrt{20}\\rceil^2", "|x-2|", "|a_{n-1}|",
    # algebra
    "x^2+2x+1", "(x+1)^2", "(2x-1)(2x+1)(2x+3)", "11z^7(11z^7+5)", "\\frac{x+2}{7}",
    "2\\sin b\\cos a", "\\frac{\\pi r}{h+r}", "2-2p", "a+b+c", "x^5-x^4+x^3-x^2+x-1",
    "\\frac{(x-b)(x-c)}{(a-b)(a-c)}", "2\\cdot3\\cdot4\\cdot(5+1)", "7\\times 6\\times 12-220",
    "(1+2+2^2)(1+5)", "\\frac{1}{2}\\cdot AD\\cdot CD",
    # equations and relations
    "x=5", "y=2x+3", "f(x)=2x+3", "2x+4y-3=0", "x^2/4+y^2/3=1", "x-2y+z-1=0",
    "p(8)=\\frac{q(8)+8}{8^2-1}=\\frac{3}{56}", "a+b=121+909=1030", "x\\geq5", "x<3",
    "-793<a<10", "0<f(x)<1", "x\\neq3", "k\\ge2", "f(2)<f(1)<f(4)", "x\\in[-2,7]",
    # tuples, sets, intervals
    "(3,\\frac{\\pi}{2})", "(6,31,-1)", "(1,2),(2,1)", "\\{1,2,3\\}", "\\{-1\\}\\cup[0,7)",
    "[0,1)", "(-\\infty,2)\\cup(3,\\infty)", "(2,12)\\cup(12,102)",
    "[\\frac{\\pi^2}{8},\\frac{5\\pi^2}{4}]",
    "(0,36)\\setminus\\{9\\}", "-2,1", "1\\pm\\sqrt{19}", "\\{1\\pm\\sqrt{5},-2\\}", "\\pm2021",
    "p=5,q=2", "(x,y)=(5,8)", "(0;0;0)",
    # matrices, vectors
    "\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}", "\\begin{pmatrix}-18\\\\-49\\\\96\\end{pmatrix}",
    "\\begin{pmatrix}\\frac{1}{5}\\\\-\\frac{18}{5}\\end{pmatrix}",
    # sums, integrals, text-like
    "\\sum_{k=0}^{n-1}F_kF_{n-k-1}", "\\int_0^1x^2dx", "Evelyn", "odd", "E", "204_5",
    "4210_{7}", "5r^5", "F_{n+1}=F_{n+2}-F_n",
)  # fmt: skip

COMPARISONS: tuple[tuple[str, str], ...] = (
    ("x>5", "5<x"),
    ("2x+4y-3=0", "y=-\\frac{1}{2}x+\\frac{3}{4}"),
    ("0<x<1", "(0,1)"),
    ("(x+1)^2", "x^2+2x+1"),
    ("\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}", "\\begin{pmatrix}1&2\\\\3&5\\end{pmatrix}"),
    ("\\{1,2\\}", "2,1"),
    ("\\sin(x)^2+\\cos(x)^2", "1"),
    ("1+2i", "i(2-i)"),
    ("F_n=\\sum_{k=0}^{n-1}F_k", "F_n=\\sum_{k=0}^{n-2}F_k"),
    ("(-\\infty,2)\\cup(3,\\infty)", "(-\\infty,2]\\cup[3,\\infty)"),
    ("1\\pm\\sqrt{19}", "1+\\sqrt{19},1-\\sqrt{19}"),
    ("x^2/4+y^2/3=1", "3x^2+4y^2=12"),
)
