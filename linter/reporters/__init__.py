"""Reporters: turn finding records into text, JSON and the formats CI systems read.

Reporters read Finding records only; they never see a parse tree or a rule object.
"""
