"""Operational tools generated from the contract: XLSForms, printable forms, the flow diagram."""
