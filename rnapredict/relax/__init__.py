"""rnapredict.relax"""
