"""The guard rails as pure functions, shared by the policy pack (``policy/``) and the offline plan.

They live here, below both, so imports point one way: ``policy`` imports ``components``.
"""
