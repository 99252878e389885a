"""审核结算 by benefit family: the steps :func:`benefits.claims.adjudication.decide` runs for one claim.

:mod:`.base` — the step book, the parts of the payment, the year's accumulators; :mod:`.inpatient` — 住院
and 视同住院 by year part; :mod:`.outpatient` — 普通门诊统筹; :mod:`.special` — 门诊慢特病, 重特大疾病,
单行支付药品; :mod:`.maternity` — 生育; :mod:`.layers` — 大病保险 / 大额医疗费用补助 above the pool and
ziyang's 商业健康补充医疗保险. Each calls the committed rule functions of :mod:`benefits.calculations`
unchanged; the steps and citations are those of the rules.
"""
