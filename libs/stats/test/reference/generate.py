"""Generates test/reference/values.ts: reference values computed independently of @lotty/stats.

Run: python3 libs/stats/test/reference/generate.py > libs/stats/test/reference/values.ts
Tools: mpmath (50-digit arithmetic) for special functions, scipy.stats for tests, numpy on raw
simulated per-unit data (so sufficient-statistic algebra in the library is checked against
direct computation), scipy.integrate.quad for Bayesian risk.
"""
import json
import numpy as np
import mpmath as mp
from scipy import stats, integrate

mp.mp.dps = 50
out = {}

def f(x):
    return float(x)

# --- special functions (mpmath, 50 digits) ---
out["normalSf"] = [[x, f(mp.ncdf(-mp.mpf(x)))] for x in [-6, -1.5, 0, 0.3, 1, 1.96, 2.9, 3.1, 5, 8.5, 12, 20, 30, 37]]
def ppf(p):
    return f(mp.sqrt(2) * mp.erfinv(2 * mp.mpf(p) - 1)) if p > 1e-15 else f(-mp.findroot(lambda x: mp.log(mp.ncdf(-x)) - mp.log(mp.mpf(p)), mp.sqrt(-2 * mp.log(p))))
out["normalPpf"] = [[p, ppf(p)] for p in [1e-300, 1e-100, 1e-20, 1e-8, 0.001, 0.025, 0.2, 0.5, 0.7, 0.975, 0.999]]
def tsf(t, df):
    t = mp.mpf(t); df = mp.mpf(df)
    v = mp.betainc(df / 2, mp.mpf(1) / 2, 0, df / (df + t * t), regularized=True) / 2
    return v if t > 0 else 1 - v
tcases = [(2.228138851986274, 10), (1, 1), (-2, 5), (0.5, 3.7), (50, 3), (1e10, 1.5), (12, 30), (40, 30), (3, 9999), (3, 1e6), (5, 1e8), (0.3, 1e10), (8, 5e4), (1e-8, 7), (25, 200)]
out["studentTSf"] = [[t, df, f(tsf(t, df))] for t, df in tcases]
def tisf(q, df):
    q = mp.mpf(q)
    guess = mp.log(max(float(mp.sqrt(2) * mp.erfinv(1 - 2 * q)) if q > 1e-15 else 10.0, 1e-12))
    guess = max(guess, (mp.log(1 / q)) / df)
    u = mp.findroot(lambda u: mp.log(tsf(mp.exp(u), df)) - mp.log(q), guess)
    return f(mp.exp(u))
out["studentTIsf"] = [[q, df, tisf(q, df)] for q, df in [(0.025, 10), (0.025, 1), (0.025, 2), (0.05, 4.5), (0.4, 3), (0.4999999, 4), (1e-10, 2.5), (1e-300, 1), (1e-300, 5), (1e-50, 1e6), (0.025, 1e8), (0.001, 123.4)]]
out["chiSquareSf"] = [[x, k, f(mp.gammainc(mp.mpf(k) / 2, mp.mpf(x) / 2, regularized=True))] for x, k in [(3.841458820694124, 1), (0.5, 10), (100, 3), (1400, 2), (1000, 500), (7.5, 2), (30, 4), (0.001, 1), (50, 49.5)]]

# --- comparisons on simulated raw data ---
rng = np.random.default_rng(20261123)

def welch(mean_a, var_a, n_a, mean_b, var_b, n_b):
    r = stats.ttest_ind_from_stats(mean_b, np.sqrt(var_b), n_b, mean_a, np.sqrt(var_a), n_a, equal_var=False)
    sa, sb = var_a / n_a, var_b / n_b
    df = (sa + sb) ** 2 / (sa ** 2 / (n_a - 1) + sb ** 2 / (n_b - 1))
    d = mean_b - mean_a; se = np.sqrt(sa + sb); q = stats.t.isf(0.025, df)
    return {"estimate": d, "se": se, "statistic": float(r.statistic), "pValue": float(r.pvalue), "df": df, "ci": [d - q * se, d + q * se],
            "zPValue": float(2 * stats.norm.sf(abs(d / se)))}

def lift(mean_a, var_a, n_a, mean_b, var_b, n_b, df):
    L = (mean_b - mean_a) / abs(mean_a)
    se = np.sqrt(var_b / (n_b * mean_a ** 2) + var_a * mean_b ** 2 / (n_a * mean_a ** 4))
    z = stats.norm.isf(0.025); t = stats.t.isf(0.025, df)
    return {"estimate": L, "se": se, "zCi": [L - z * se, L + z * se], "welchCi": [L - t * se, L + t * se],
            "welchPValue": float(2 * stats.t.sf(abs(L / se), df)), "zPValue": float(2 * stats.norm.sf(abs(L / se)))}

def suff(y):
    return {"n": int(len(y)), "sum": float(y.sum()), "sumSq": float((y * y).sum())}

ya = rng.gamma(2.0, 5.0, 800); yb = rng.gamma(2.1, 5.0, 750)
w = welch(ya.mean(), ya.var(ddof=1), len(ya), yb.mean(), yb.var(ddof=1), len(yb))
out["means"] = {"a": suff(ya), "b": suff(yb), "welch": w, "lift": lift(ya.mean(), ya.var(ddof=1), len(ya), yb.mean(), yb.var(ddof=1), len(yb), w["df"])}

# proportions: chi2_contingency (Pearson, no continuity correction) is the pooled-z reference
xa, na, xb, nb = 412, 10000, 481, 10050
chi2, p_chi, _, _ = stats.chi2_contingency([[xa, na - xa], [xb, nb - xb]], correction=False)
pa, pb = xa / na, xb / nb
se_u = np.sqrt(pa * (1 - pa) / na + pb * (1 - pb) / nb); z = stats.norm.isf(0.025)
out["proportions"] = {"a": {"n": na, "successes": xa}, "b": {"n": nb, "successes": xb}, "chi2": chi2, "pooledPValue": p_chi,
                      "unpooledCi": [pb - pa - z * se_u, pb - pa + z * se_u],
                      "welch": welch(pa, pa * (1 - pa), na, pb, pb * (1 - pb), nb),
                      "lift": lift(pa, pa * (1 - pa), na, pb, pb * (1 - pb), nb, 1.0)}

# ratio: per-user sessions (D) and revenue (M); delta-method variance from numpy moments
def ratio_data(n, rate):
    d = rng.poisson(3, n) + 1
    m = rng.gamma(1.5, rate, n) * d
    return m.astype(float), d.astype(float)
def ratio_var(m, d):
    c = np.cov(m, d, ddof=1)
    mm, md = m.mean(), d.mean()
    return mm / md, c[0, 0] / md ** 2 + c[1, 1] * mm ** 2 / md ** 4 - 2 * c[0, 1] * mm / md ** 3
ma, da = ratio_data(600, 2.0); mb, db = ratio_data(650, 2.2)
ra, va = ratio_var(ma, da); rb, vb = ratio_var(mb, db)
rs = lambda m, d: {"n": len(m), "sumM": float(m.sum()), "sumM2": float((m * m).sum()), "sumD": float(d.sum()), "sumD2": float((d * d).sum()), "sumMD": float((m * d).sum())}
wr = welch(ra, va, len(ma), rb, vb, len(mb))
out["ratios"] = {"a": rs(ma, da), "b": rs(mb, db), "meanA": ra, "varA": va, "meanB": rb, "varB": vb, "welch": wr, "lift": lift(ra, va, len(ma), rb, vb, len(mb), wr["df"])}

# CUPED: theta by least squares on the union; adjusted per-unit values tested directly with Welch
xa_ = rng.normal(10, 3, 900); ya_ = 2 + 0.8 * xa_ + rng.normal(0, 2, 900)
xb_ = rng.normal(10.2, 3, 950); yb_ = 2.3 + 0.8 * xb_ + rng.normal(0, 2, 950)
X = np.concatenate([xa_, xb_]); Y = np.concatenate([ya_, yb_])
theta = np.polyfit(X, Y, 1)[0]
adj_a = ya_ - theta * xa_; adj_b = yb_ - theta * xb_
r = stats.ttest_ind(adj_b, adj_a, equal_var=False)
d_adj = adj_b.mean() - adj_a.mean()
se_adj = np.sqrt(adj_a.var(ddof=1) / len(adj_a) + adj_b.var(ddof=1) / len(adj_b))
se_raw = np.sqrt(ya_.var(ddof=1) / len(ya_) + yb_.var(ddof=1) / len(yb_))
ca = np.cov(ya_, xa_, ddof=1); cb = np.cov(yb_, xb_, ddof=1)
b1, b2, b3, b4 = yb_.mean(), xb_.mean(), ya_.mean(), xa_.mean()
gb = np.array([1 / b3, -theta / b3]); ga = np.array([(-b1 + theta * b2 - theta * b4) / b3 ** 2, theta / b3])
rel_var = gb @ (cb / len(yb_)) @ gb + ga @ (ca / len(ya_)) @ ga
ga_gbcode = np.array([-b1 / b3 ** 2, theta / b3])
rel_var_gbcode = gb @ (cb / len(yb_)) @ gb + ga_gbcode @ (ca / len(ya_)) @ ga_gbcode
cs = lambda y, x: {"n": len(y), "sum": float(y.sum()), "sumSq": float((y * y).sum()), "sumX": float(x.sum()), "sumX2": float((x * x).sum()), "sumXY": float((x * y).sum())}
xbar = X.mean()
out["cuped"] = {"a": cs(ya_, xa_), "b": cs(yb_, xb_), "theta": theta, "diff": d_adj, "se": se_adj, "pValue": float(r.pvalue), "statistic": float(r.statistic),
                "adjustedMeanA": ya_.mean() - theta * (xa_.mean() - xbar), "adjustedMeanB": yb_.mean() - theta * (xb_.mean() - xbar),
                "varianceReduction": 1 - se_adj ** 2 / se_raw ** 2, "relEstimate": d_adj / abs(b3), "relSe": float(np.sqrt(rel_var)), "relSeGbCode": float(np.sqrt(rel_var_gbcode))}

# SRM: scipy.stats.chisquare
out["srm"] = []
for obs, wts in [([5000, 5100], [1, 1]), ([5000, 5400], [1, 1]), ([3300, 3300, 3500], [1, 1, 1]), ([2000, 8100], [20, 80])]:
    tot = sum(obs); exp_ = [wi / sum(wts) * tot for wi in wts]
    c, p = stats.chisquare(obs, exp_)
    out["srm"].append({"counts": obs, "weights": wts, "chiSquare": float(c), "pValue": float(p)})

# sequential (paper eq. 9/155/161 evaluated in mpmath)
seq = []
for est, se, n, alpha, tune in [(0.02, 0.01, 20000, 0.05, 5000), (-0.5, 0.3, 800, 0.1, 5000), (0.01, 0.002, 1e6, 0.05, 1e4)]:
    a = mp.mpf(alpha); rho = mp.sqrt((-2 * mp.log(a) + mp.log(1 - 2 * mp.log(a))) / tune)
    nr = n * rho ** 2
    hw = se * mp.sqrt(2 * (nr + 1) / nr * mp.log(mp.sqrt(nr + 1) / a))
    s2 = (mp.mpf(est) / se) ** 2 * n
    E = mp.exp(rho ** 2 * s2 / (2 * (nr + 1))) / mp.sqrt(nr + 1)
    seq.append({"estimate": est, "se": se, "n": n, "alpha": alpha, "tuning": tune, "halfwidth": f(hw), "pValue": f(min(1, 1 / E))})
out["sequential"] = seq

# multiple comparisons: BH from scipy.stats.false_discovery_control; Holm by its O(m^2) definition
ps = [0.01, 0.04, 0.03, 0.005, 0.5, 0.04, 0.2]
m = len(ps); srt = sorted(ps)
holm = [max(min(1, (m - j) * srt[j]) for j in range(sorted(range(m), key=lambda i: ps[i]).index(i) + 1)) for i in range(m)]
out["multiple"] = {"p": ps, "bonferroni": [min(1, m * p) for p in ps], "holm": holm, "bh": list(stats.false_discovery_control(ps, method="bh"))}

# power: closed forms (Fleiss, unpooled, Cohen's h) and scipy.stats.nct for the exact t-test
def t_power(n, es, alpha=0.05):
    df = 2 * n - 2; lam = es * np.sqrt(n / 2); c = stats.t.isf(alpha / 2, df)
    return float(stats.nct.sf(c, df, lam) + stats.nct.cdf(-c, df, lam))
def t_n(es, power):
    n = 2
    while t_power(n, es) < power: n += 1
    return n
za, zb = stats.norm.isf(0.025), stats.norm.isf(0.2)
p1, p2 = 0.1, 0.11
fleiss = (za * np.sqrt(2 * 0.105 * 0.895) + zb * np.sqrt(p1 * (1 - p1) + p2 * (1 - p2))) ** 2 / (p2 - p1) ** 2
unpooled = (za + zb) ** 2 * (p1 * (1 - p1) + p2 * (1 - p2)) / (p2 - p1) ** 2
arcsine = 2 * (za + zb) ** 2 / (2 * np.arcsin(np.sqrt(p2)) - 2 * np.arcsin(np.sqrt(p1))) ** 2
out["power"] = {"fleiss": fleiss, "unpooled": unpooled, "arcsine": arcsine,
                "tN05": t_n(0.5, 0.8), "tN02": t_n(0.2, 0.9),
                "tPower": [[n, es, t_power(n, es)] for n, es in [(64, 0.5), (3, 2.0), (20, 0.3), (500, 0.1)]],
                "zMeansN": 2 * 4.0 ** 2 * (za + zb) ** 2 / 0.5 ** 2}

# Bayesian: posterior closed form, risk by numerical integration
def bayes(est, se, prior):
    if prior is None:
        mu, s = est, se
    else:
        m0, s0 = prior; prec = 1 / se ** 2 + 1 / s0 ** 2; mu = (est / se ** 2 + m0 / s0 ** 2) / prec; s = np.sqrt(1 / prec)
    dens = lambda x: stats.norm.pdf(x, mu, s)
    gain = integrate.quad(lambda x: x * dens(x), 0, mu + 40 * s, epsabs=1e-14, epsrel=1e-12)[0]
    loss = integrate.quad(lambda x: -x * dens(x), mu - 40 * s, 0, epsabs=1e-14, epsrel=1e-12)[0]
    return {"estimate": est, "se": se, "prior": prior, "mean": mu, "sd": s, "chanceToWin": float(stats.norm.sf(0, mu, s)),
            "ci": [float(stats.norm.ppf(0.025, mu, s)), float(stats.norm.ppf(0.975, mu, s))], "riskControl": gain, "riskTreatment": loss}
out["bayes"] = [bayes(0.05, 0.03, None), bayes(0.05, 0.03, [0, 0.3]), bayes(-0.02, 0.04, [0.01, 0.1])]

def conv(o):
    if isinstance(o, dict): return {k: conv(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)): return [conv(v) for v in o]
    if isinstance(o, (np.floating,)): return float(o)
    if isinstance(o, (np.integer,)): return int(o)
    return o

print("// GENERATED by test/reference/generate.py (scipy %s, mpmath %s; numpy seed 20261123)." % (__import__("scipy").__version__, mp.__version__))
print("// Reference values computed independently of @lotty/stats; see generate.py for each source.")
print("export const ref = " + json.dumps(conv(out), indent=1) + " as const;")
