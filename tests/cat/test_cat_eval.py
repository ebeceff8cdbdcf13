"""The evaluator on hand-built graphs: predefined names, the algebra, let rec,
closures, try, with-from forks, variants, explanations, and bad models."""

from __future__ import annotations

import os

import pytest

from gupsim.check.cat import load_model
from gupsim.errors import UsageError


@pytest.fixture
def cat(tmp_path):
    """``cat(text, **kw)``: a model from text (written to a file)."""
    count = [0]

    def make(text, **kw):
        count[0] += 1
        path = tmp_path / f"m{count[0]}.cat"
        path.write_text(text)
        return load_model(path, **kw)
    return make


@pytest.fixture
def sb(ev):
    """P0: W x=1; R y=0.  P1: W y=1 (ONCE); F rmb; R x=1 (reads P0's store)."""
    return ev.g({"x": 0, "y": 0},
                [[ev.W("x", 1), ev.R("y", 0)],
                 [ev.W("y", 1, "ONCE"), ev.F("rmb"), ev.R("x", 1, "ONCE", rf=(0, 0))]])


# ids: 0 init x, 1 init y, 2 P0.Wx, 3 P0.Ry, 4 P1.Wy, 5 P1.F, 6 P1.Rx

def test_predefined_sets_and_relations(cat, sb):
    m = cat("let a = 0")
    assert m.relation(sb, "IW") == {0, 1}
    assert m.relation(sb, "R") == {3, 6} and m.relation(sb, "W") == {0, 1, 2, 4}
    assert m.relation(sb, "M") == {0, 1, 2, 3, 4, 6} and m.relation(sb, "F") == {5}
    assert m.relation(sb, "ONCE") == {4, 6} and m.relation(sb, "Rmb") == {5}
    assert m.relation(sb, "po") == {(2, 3), (4, 5), (4, 6), (5, 6)}
    assert m.relation(sb, "rf") == {(1, 3), (2, 6)}
    assert m.relation(sb, "rfe") == {(1, 3), (2, 6)} and m.relation(sb, "rfi") == set()
    assert m.relation(sb, "co") == {(0, 2), (1, 4)}
    assert m.relation(sb, "fr") == {(3, 4)}
    assert m.relation(sb, "po-loc") == set()
    assert (2, 2) in m.relation(sb, "int") and (0, 0) not in m.relation(sb, "int")
    assert (0, 1) not in m.relation(sb, "ext") and (0, 2) in m.relation(sb, "ext")
    assert m.relation(sb, "FW") == {2, 4}
    assert (0, 6) in m.relation(sb, "loc") and (5, 5) not in m.relation(sb, "loc")


def test_algebra(cat, sb):
    m = cat("""
let seq = po ; po
let plus = po+
let star = po*
let inv = rf^-1
let prod = W * R
let ident = [ONCE]
let comp = ~M
let dom = domain(rf)
let rng = range(rf)
let opt = rf?
let mix = (po | rf) \\ (W * _)
let both = po & (_ * R)
let fence = fencerel(Rmb)
let single = singlestep(po)
""")
    n = len(sb.events)
    po = m.relation(sb, "po")
    assert m.relation(sb, "seq") == {(4, 6)}
    assert m.relation(sb, "plus") == po
    assert m.relation(sb, "star") == po | {(e, e) for e in range(n)}
    assert m.relation(sb, "inv") == {(3, 1), (6, 2)}
    assert m.relation(sb, "prod") == {(w, r) for w in (0, 1, 2, 4) for r in (3, 6)}
    assert m.relation(sb, "ident") == {(4, 4), (6, 6)}
    assert m.relation(sb, "comp") == {5}
    assert m.relation(sb, "dom") == {1, 2} and m.relation(sb, "rng") == {3, 6}
    assert m.relation(sb, "opt") == {(1, 3), (2, 6)} | {(e, e) for e in range(n)}
    assert m.relation(sb, "mix") == {(5, 6)}
    assert m.relation(sb, "both") == {(2, 3), (4, 6), (5, 6)}
    assert m.relation(sb, "fence") == {(4, 6)}
    assert m.relation(sb, "single") == {(2, 3), (4, 5), (5, 6)}


def test_let_rec_is_a_least_fixpoint(cat, sb):
    m = cat("let rec t = po | (t ; po)\nlet s = let rec u = rf | (u ; po) in u")
    assert m.relation(sb, "t") == m.relation(sb, "po")
    assert m.relation(sb, "s") == {(1, 3), (2, 6)}


def test_functions_see_the_definitions_of_their_time(cat, sb):
    m = cat("let a = po\nlet f(x) = x & a\nlet a = rf\nlet r = f(_)\nlet g x = x | a\n"
            "let s = g(0)\nlet h = fun (p, q) -> p ; q\nlet t = h(po, po)")
    assert m.relation(sb, "r") == m.relation(sb, "po")
    assert m.relation(sb, "s") == m.relation(sb, "rf")
    assert m.relation(sb, "t") == {(4, 6)}



def test_try_map_and_sets(cat, sb):
    m = cat("let z = try nosuch with po\nlet one = map (fun e -> e) (R)\n"
            "let pairs = map (fun p -> p ++ 0) (rf)\nlet c = cross(pairs ++ 0)\n"
            "let dv = different-values(loc & (W * R))\nlet el = {}")
    assert m.relation(sb, "z") == m.relation(sb, "po")
    assert m.relation(sb, "one") == {3, 6}
    assert m.relation(sb, "dv") == {(0, 6), (4, 3)}     # init x=0 vs 1, y=1 vs 0


def test_with_from_forks_and_keeps_the_passing_choice_flags(cat, ev):
    g = ev.g({"x": 0, "y": 0}, [[ev.W("x", 1), ev.R("y", 0), ev.R("x", 1, rf=(0, 0))]])
    text = ("with c from map (fun p -> p ++ 0) (po)\n"
            "flag ~empty c & (R * R) as rr\nflag ~empty c & (W * R) as wr\n"
            "empty c \\ {SEL} as pick\n")
    j = cat(text.replace("{SEL}", "po-loc")).check(g)
    assert (j.consistent, j.flags) == (True, ("wr",))
    j = cat(text.replace("{SEL}", "(R * R)")).check(g)
    assert (j.consistent, j.flags) == (True, ("rr",))
    j = cat(text.replace("{SEL}", "co")).check(g)
    assert (j.consistent, j.failed, j.flags) == (False, "pick", ())


def test_checks_run_in_order_and_flags_need_a_pass(cat, sb):
    m = cat("flag ~empty po as has-po\nacyclic po | rf as first\n"
            "irreflexive po ; rf^-1 as second\nempty rf & int as third\n"
            "empty (W * W) & co as fourth")
    j = m.check(sb)
    assert (j.consistent, j.failed) == (False, "fourth")
    assert cat("flag ~empty po as has-po\nacyclic po").check(sb).flags == ("has-po",)


def test_variants(cat, sb):
    text = 'empty (if "v2" then 0 else _) as needs-v2'
    assert cat(text).check(sb).failed == "needs-v2"
    assert cat(text, variants={"v2"}).check(sb).consistent


def test_enum_tags_are_sets_even_when_absent(cat, sb):
    m = cat("enum Barriers = 'wmb || 'sync-x\nlet a = Wmb | Sync-x | Rmb")
    assert m.relation(sb, "a") == {5}
    assert m.check(sb).consistent


def test_observed_cells_choose_the_final_writes(cat, sb):
    m = cat("let a = 0")
    assert m.relation(sb, "FW", observed={"x"}) == {2}
    assert m.relation(sb, "FW", observed=set()) == set()


def test_unbound_name_is_a_usage_error(cat, sb):
    with pytest.raises(UsageError, match=r"m\d\.cat:1:9: nosuch is not defined"):
        cat("let a = nosuch").check(sb)


def test_type_errors_name_the_position(cat, sb):
    with pytest.raises(UsageError, match=r"m\d\.cat:1:9: .*relation was expected"):
        cat("let a = (po | rf) ; (fun x -> x)").check(sb)


def test_unsupported_and_missing_includes(cat):
    with pytest.raises(UsageError, match=r"m\d\.cat:1:1: procedure is not supported"):
        cat("procedure p(x) = acyclic x end")
    with pytest.raises(UsageError, match=r"m\d\.cat:2:1: include 'nowhere.cat': no such file"):
        cat("let a = po\ninclude \"nowhere.cat\"")


def test_includes_resolve_next_to_the_model(tmp_path, sb):
    (tmp_path / "lib.cat").write_text("let libpo = po")
    (tmp_path / "top.cat").write_text('include "lib.cat"\ninclude "stdlib.cat"\n'
                                      'include "cos.cat"\nlet mine = libpo ; po')
    m = load_model(tmp_path / "top.cat")
    assert m.relation(sb, "mine") == {(4, 6)}


def test_explain_mp_names_the_happens_before_cycle(lkmm, ev):
    """MP+wmb+rmb: the cycle is Ry -> Rx (rmb, a ppo edge) and Rx -> Ry (a
    prop edge inside P1), written with the model's names."""
    p0 = [ev.W("x", 1, "ONCE"), ev.F("wmb"), ev.W("y", 1, "ONCE")]
    p1 = [ev.R("y", 1, "ONCE", rf=(0, 2)), ev.F("rmb"), ev.R("x", 0, "ONCE")]
    g = ev.g({"x": 0, "y": 0}, [p0, p1])
    ex = lkmm.explain(g)
    ry, rx = g.threads[1][0], g.threads[1][2]
    assert ex.axiom == "happens-before" and ex.test == "acyclic"
    assert sorted((a, b) for a, _, b in ex.edges) == sorted([(ry, rx), (rx, ry)])
    labels = {(a, b): lab for a, lab, b in ex.edges}
    assert labels[(ry, rx)] == "ppo" and labels[(rx, ry)] == "prop"
    text = ex.render(g)
    assert "P1#0 R" in text and "--ppo->" in text


def test_explain_is_a_closed_cycle_for_every_forbidden_shape(lkmm, ev):
    g = ev.g({"x": 0, "y": 0}, [[ev.W("x", 1, "ONCE"), ev.F("MB"), ev.R("y", 0, "ONCE")],
                                [ev.W("y", 1, "ONCE"), ev.F("MB"), ev.R("x", 0, "ONCE")]])
    ex = lkmm.explain(g)
    assert ex.axiom == "propagation"
    chain = [(a, b) for a, _, b in ex.edges]
    assert all(chain[i][1] == chain[(i + 1) % len(chain)][0] for i in range(len(chain)))
    assert {lab for _, lab, _ in ex.edges} == {"prop", "strong-fence"}
    assert lkmm.explain(ev.g({"x": 0}, [[ev.W("x", 1, "ONCE")]])) is None


def test_explain_deeper_reaches_base_relations(lkmm, ev):
    """depth 3 opens prop down to fr and the hb terms down to the fences."""
    p0 = [ev.W("x", 1, "ONCE"), ev.F("wmb"), ev.W("y", 1, "ONCE")]
    p1 = [ev.R("y", 1, "ONCE", rf=(0, 2)), ev.F("rmb"), ev.R("x", 0, "ONCE")]
    g = ev.g({"x": 0, "y": 0}, [p0, p1])
    ex = lkmm.explain(g, depth=3)
    assert [lab for _, lab, _ in ex.edges] == ["rmb", "fr", "wmb", "rf"]
    chain = [(a, b) for a, _, b in ex.edges]
    assert chain[0][0] == chain[-1][1] and all(
        chain[i][1] == chain[i + 1][0] for i in range(len(chain) - 1))


def test_cache_notices_an_edited_include(tmp_path, sb):
    (tmp_path / "lib.cat").write_text("let a = po")
    (tmp_path / "top.cat").write_text('include "lib.cat"\nlet b = a')
    m1 = load_model(tmp_path / "top.cat")
    assert load_model(tmp_path / "top.cat") is m1
    (tmp_path / "lib.cat").write_text("let a = rf")
    st = os.stat(tmp_path / "lib.cat")
    os.utime(tmp_path / "lib.cat", ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    m2 = load_model(tmp_path / "top.cat")
    assert m2 is not m1 and m2.relation(sb, "b") == m1.relation(sb, "rf")


def test_an_include_cycle_is_a_usage_error(tmp_path):
    (tmp_path / "a.cat").write_text('include "b.cat"')
    (tmp_path / "b.cat").write_text('let x = po\ninclude "a.cat"')
    with pytest.raises(UsageError, match=r"b.cat:2:1: include 'a.cat' includes itself"):
        load_model(tmp_path / "a.cat")
