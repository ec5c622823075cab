"""rnapredict.geometry"""
