"""Pricing service: Price lists, contract prices, volume tiers, commercial policy, explainable price resolution over the SKU x client matrix, ERP price feeds."""
