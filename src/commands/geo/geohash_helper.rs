//! The search geometry on top of geohash cells: how many bits a radius needs, the box
//! around a shape, the 9 cells to scan, and the haversine distances. Ported expression for
//! expression (same operand order) so distances print the digits Redis prints.
//! Redis: geohash_helper.c.

use super::geohash::{self, HashBits, Neighbors};

const D_R: f64 = std::f64::consts::PI / 180.0;
/// Earth's quadratic mean radius for WGS-84, Redis's value.
pub const EARTH_RADIUS_IN_METERS: f64 = 6372797.560856;
const MERCATOR_MAX: f64 = 20037726.37;

fn deg_rad(ang: f64) -> f64 {
    ang * D_R
}

fn rad_deg(ang: f64) -> f64 {
    ang / D_R
}

/// What is searched: a circle (radius) or a box (width, height), around `xy`, with the
/// unit's factor to meters.
#[derive(Clone, Copy, Debug)]
pub enum Dims {
    Circle { radius: f64 },
    Box { width: f64, height: f64 },
}

#[derive(Clone, Copy, Debug)]
pub struct Shape {
    pub dims: Dims,
    /// Centre: longitude, latitude.
    pub xy: [f64; 2],
    pub conversion: f64,
}

/// The cell and its neighbours a search scans (GeoHashRadius).
pub struct SearchArea {
    pub hash: HashBits,
    pub neighbors: Neighbors,
}

pub fn estimate_steps_by_radius(mut range_meters: f64, lat: f64) -> u8 {
    if range_meters == 0.0 {
        return 26;
    }
    let mut step: i32 = 1;
    while range_meters < MERCATOR_MAX {
        range_meters *= 2.0;
        step += 1;
    }
    step -= 2;
    // Cells are narrower towards the poles.
    if !(-66.0..=66.0).contains(&lat) {
        step -= 1;
        if !(-80.0..=80.0).contains(&lat) {
            step -= 1;
        }
    }
    step.clamp(1, 26) as u8
}

/// min_lon, min_lat, max_lon, max_lat of the shape (geohashBoundingBox).
pub fn bounding_box(shape: &Shape) -> [f64; 4] {
    let [longitude, latitude] = shape.xy;
    let (height, width) = match shape.dims {
        Dims::Circle { radius } => (shape.conversion * radius, shape.conversion * radius),
        Dims::Box { width, height } => (shape.conversion * (height / 2.0), shape.conversion * (width / 2.0)),
    };
    let lat_delta = rad_deg(height / EARTH_RADIUS_IN_METERS);
    let long_delta_top = rad_deg(width / EARTH_RADIUS_IN_METERS / deg_rad(latitude + lat_delta).cos());
    let long_delta_bottom = rad_deg(width / EARTH_RADIUS_IN_METERS / deg_rad(latitude - lat_delta).cos());
    // The hemispheres' widest edges are opposite.
    let southern = latitude < 0.0;
    [
        if southern { longitude - long_delta_bottom } else { longitude - long_delta_top },
        latitude - lat_delta,
        if southern { longitude + long_delta_bottom } else { longitude + long_delta_top },
        latitude + lat_delta,
    ]
}

/// geohashCalculateAreasByShapeWGS84.
pub fn areas_by_shape(shape: &Shape) -> SearchArea {
    let [min_lon, min_lat, max_lon, max_lat] = bounding_box(shape);
    let [longitude, latitude] = shape.xy;
    let radius_meters = match shape.dims {
        Dims::Circle { radius } => radius,
        Dims::Box { width, height } => ((width / 2.0) * (width / 2.0) + (height / 2.0) * (height / 2.0)).sqrt(),
    } * shape.conversion;
    let mut steps = estimate_steps_by_radius(radius_meters, latitude);
    let (long_range, lat_range) = geohash::coord_range();
    let cell = |steps: u8| {
        let hash = geohash::encode(&long_range, &lat_range, longitude, latitude, steps).unwrap_or_default();
        let neighbors = geohash::neighbors(&hash);
        let area = geohash::decode(long_range, lat_range, hash).unwrap_or_default();
        (hash, neighbors, area)
    };
    let (mut hash, mut neighbors, mut area) = cell(steps);
    // Near a cell's edge the estimated step can leave part of the shape outside the 9 cells.
    let decrease_step = {
        let d = |h| geohash::decode(long_range, lat_range, h).unwrap_or_default();
        let (north, south, east, west) = (d(neighbors.north), d(neighbors.south), d(neighbors.east), d(neighbors.west));
        north.latitude.max < max_lat || south.latitude.min > min_lat || east.longitude.max < max_lon || west.longitude.min > min_lon
    };
    if steps > 1 && decrease_step {
        steps -= 1;
        (hash, neighbors, area) = cell(steps);
    }
    // Drop the neighbours the shape cannot reach.
    if steps >= 2 {
        let zero = HashBits::default();
        if area.latitude.min < min_lat {
            neighbors.south = zero;
            neighbors.south_west = zero;
            neighbors.south_east = zero;
        }
        if area.latitude.max > max_lat {
            neighbors.north = zero;
            neighbors.north_east = zero;
            neighbors.north_west = zero;
        }
        if area.longitude.min < min_lon {
            neighbors.west = zero;
            neighbors.south_west = zero;
            neighbors.north_west = zero;
        }
        if area.longitude.max > max_lon {
            neighbors.east = zero;
            neighbors.south_east = zero;
            neighbors.north_east = zero;
        }
    }
    SearchArea { hash, neighbors }
}

pub fn lat_distance(lat1d: f64, lat2d: f64) -> f64 {
    EARTH_RADIUS_IN_METERS * (deg_rad(lat2d) - deg_rad(lat1d)).abs()
}

/// Haversine distance in meters (geohashGetDistance).
pub fn distance(lon1d: f64, lat1d: f64, lon2d: f64, lat2d: f64) -> f64 {
    let lon1r = deg_rad(lon1d);
    let lon2r = deg_rad(lon2d);
    let v = ((lon2r - lon1r) / 2.0).sin();
    // Same meridian: the cheap formula, as Redis takes it.
    if v == 0.0 {
        return lat_distance(lat1d, lat2d);
    }
    let lat1r = deg_rad(lat1d);
    let lat2r = deg_rad(lat2d);
    let u = ((lat2r - lat1r) / 2.0).sin();
    let a = u * u + lat1r.cos() * lat2r.cos() * v * v;
    2.0 * EARTH_RADIUS_IN_METERS * a.sqrt().asin()
}

/// The distance from the centre when (x2, y2) is inside the shape.
pub fn distance_if_within(shape: &Shape, x2: f64, y2: f64) -> Option<f64> {
    let [x1, y1] = shape.xy;
    match shape.dims {
        Dims::Circle { radius } => {
            let d = distance(x1, y1, x2, y2);
            // Redis rejects `distance > radius`: a NaN distance is kept.
            match d.partial_cmp(&(radius * shape.conversion)) {
                Some(std::cmp::Ordering::Greater) => None,
                _ => Some(d),
            }
        }
        Dims::Box { width, height } => {
            let (width_m, height_m) = (width * shape.conversion, height * shape.conversion);
            if lat_distance(y2, y1) > height_m / 2.0 {
                return None;
            }
            if distance(x2, y2, x1, y2) > width_m / 2.0 {
                return None;
            }
            Some(distance(x1, y1, x2, y2))
        }
    }
}
