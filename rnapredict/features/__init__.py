"""rnapredict.features"""
