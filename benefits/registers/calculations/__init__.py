"""Rules of the registers (异地就医备案, 门诊慢特病认定) and their scenario calculations."""
