"""``opnode supernode``: the derivation source of an interop dependency set — several chains in one process over one
L1 view, cross-chain messages verified, invalid blocks replaced (issue 16; op-supernode's shape, see
:mod:`opnode.supernode.service`)."""
