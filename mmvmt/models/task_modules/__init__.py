# Copyright (c) mmvmt contributors.
