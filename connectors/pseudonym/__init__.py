"""Agency-side pseudonymisation kit and the matcher the gateway reuses (docs/linkage.md).

Agency side: ``keys`` (shared MoU key files), ``normalise``, ``tokens``, ``bloom``,
``encoder.Pseudonymiser``, ``pipeline.pseudonymise_file`` (``mno pseudonymise``).
Gateway side, on re-keyed data: ``rekey.GatewayRekeyer``, ``match.Index``, ``match.match_sets``.
Tests and benchmarks: ``synthetic`` (seeded Guinean-style populations with ground truth).
"""
