"""rnapredict.engine"""
