"""rnapredict.train"""
