<?xml version="1.0" encoding="utf-8" ?>
<ogr:FeatureCollection
     gml:id="aFeatureCollection"
     xmlns:ogr="http://ogr.maptools.org/"
     xmlns:gml="http://www.opengis.net/gml/3.2">
  <gml:boundedBy><gml:Envelope srsName="urn:ogc:def:crs:EPSG::4326"><gml:lowerCorner>32.0 118.8</gml:lowerCorner><gml:upperCorner>X32.005 118.805</gml:upperCorner></gml:Envelope></gml:boundedBy>
                                  NAS-Operationen                                                                                                           
  <ogr:featureMember>
    <ogr:g gml:id="g.0">
      <gml:boundedBy><gml:Envelope srsName="urn:ogc:def:crs:EPSG::4326"><gml:lowerCorner>32.0 118.8</gml:lowerCorner><gml:upperCorner>32.005 118.805</gml:upperCorner></gml:Envelope></gml:boundedBy>
      <ogr:geometryProperty><gml:Polygon srsName="urn:ogc:def:crs:EPSG::4326" gml:id="g.geom.0"><gml:exterior><gml:LinearRing><gml:posList>32.0 118.8 32.0 118.805 32.005 118.805 32.005 118.8 32.0 118.8</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon></ogr:geometryProperty>
      <ogr:code>160051001000501</ogr:code>
      <ogr:parent>320102002001</ogr:parent>
      <ogr:name>第3网格</ogr:name>
      <ogr:kind>residential</ogr:kind>
    </ogr:g>
  </ogr:featureMember>
</ogr:FeatureCollection>
