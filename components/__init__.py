"""segment-pendula's reusable library: the PendulaTrigger component and what it stands on.

Kept free of imports with side effects: Pulumi's dynamic-provider host imports
``components.pendula`` by reference when it unpickles a provider (reference/pulumi.md §1.1).
"""

__version__ = "0.1.0"
