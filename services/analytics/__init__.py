"""Analytics service: Client facts built from events: LTV, ABC/XYZ, RFM, regularity, ladder, churn risk, share of wallet, cross-sell gaps, satisfaction."""
