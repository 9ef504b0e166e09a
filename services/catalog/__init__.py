"""Catalog service: Products, SKUs, attributes, categories, units, warehouses, stock levels and reservations, search and marketplace feeds."""
