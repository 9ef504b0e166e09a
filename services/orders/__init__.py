"""Orders service: Carts, quick order, requisition lists, checkout, the order state machine, delivery promises and OTIF, order export to ERP."""
